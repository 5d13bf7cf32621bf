package admin

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/fourlw"
	"github.com/herd-io/herd/server/proto"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"hexid":  formatHex,
	"millis": func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) },
}).ParseFS(templateFS, "templates/*.html"))

func formatHex(id int64) string {
	const digits = "0123456789abcdef"
	u := uint64(id)
	if u == 0 {
		return "0"
	}
	var b [16]byte
	i := len(b)
	for u > 0 {
		i--
		b[i] = digits[u&15]
		u >>= 4
	}
	return string(b[i:])
}

// memberRow is one line of the members table.
type memberRow struct {
	ID       int
	Line     string
	Role     string
	IsLeader bool
	IsSelf   bool
}

type sessionRow struct {
	ID         int64
	Timeout    time.Duration
	Expires    string
	Ephemerals []string
}

type overviewPage struct {
	Version  string
	Mode     string
	Serving  bool
	LeaderID int
	Term     uint64
	Members  []memberRow
	Sessions []sessionRow
	Stats    fourlw.ServerStats
	Commands []string
	CmdURL   string
}

// overview is the web view's front page: the node, the members and the
// leader, and the sessions.
func (a *adminServer) overview(w http.ResponseWriter, _ *http.Request) {
	src := a.srv.Source()
	st := src.Server()
	cs := a.srv.Cluster().State()
	p := overviewPage{Version: fourlw.FullVersion(), Mode: st.Mode, Serving: st.Serving, LeaderID: cs.Leader,
		Term: cs.Term, Stats: st, Commands: CommandNames(), CmdURL: a.opts.CommandURL}
	if members, _, err := a.srv.Cluster().Members(); err == nil && cs.Role != cluster.RoleStandalone {
		for _, m := range members {
			role := "participant"
			if m.Observer() {
				role = "observer"
			}
			p.Members = append(p.Members, memberRow{ID: m.ID, Line: m.Line(), Role: role,
				IsLeader: m.ID == cs.Leader, IsSelf: m.ID == a.srv.Cluster().ID()})
		}
	}
	for _, s := range src.Sessions() {
		row := sessionRow{ID: s.ID, Timeout: s.Timeout, Ephemerals: s.Ephemerals}
		if !s.Expires.IsZero() {
			row.Expires = s.Expires.UTC().Format(time.RFC3339)
		}
		p.Sessions = append(p.Sessions, row)
	}
	sort.Slice(p.Sessions, func(i, j int) bool { return p.Sessions[i].ID < p.Sessions[j].ID })
	a.render(w, "overview.html", p)
}

type crumb struct{ Name, Path string }

type treePage struct {
	Node     server.Znode
	Crumbs   []crumb
	Children []crumb
	// Text is the data as text when it is valid UTF-8 without control
	// characters; otherwise Hex holds a hex dump.
	Text, Hex string
	Empty     bool
	Error     string
}

// tree shows one znode, /tree/<path>: its path as links up the tree, its
// children as links down, its data as text or hex, and its stat.
func (a *adminServer) tree(w http.ResponseWriter, r *http.Request) {
	p := "/" + r.PathValue("path")
	if p != "/" && (strings.HasSuffix(p, "/") || path.Clean(p) != p) {
		http.Error(w, "bad path "+p, http.StatusBadRequest)
		return
	}
	page := treePage{Crumbs: crumbs(p)}
	z, err := a.srv.Znode(p)
	switch {
	case errors.Is(err, proto.ErrNoNode):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		page.Error = "no node " + p
		page.Node.Path = p
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	default:
		page.Node = z
		for _, c := range z.Children {
			page.Children = append(page.Children, crumb{Name: c, Path: path.Join(p, c)})
		}
		page.Text, page.Hex, page.Empty = showData(z.Data)
	}
	a.render(w, "tree.html", page)
}

func crumbs(p string) []crumb {
	out := []crumb{{Name: "/", Path: "/"}}
	if p == "/" {
		return out
	}
	cur := ""
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		cur += "/" + part
		out = append(out, crumb{Name: part, Path: cur})
	}
	return out
}

// showData returns data as text if it reads as text, else as a hex dump.
func showData(b []byte) (text, hexDump string, empty bool) {
	if len(b) == 0 {
		return "", "", true
	}
	if utf8.Valid(b) && !strings.ContainsFunc(string(b), func(r rune) bool {
		return r < 0x20 && r != '\n' && r != '\r' && r != '\t'
	}) {
		return string(b), "", false
	}
	var sb strings.Builder
	const digits = "0123456789abcdef"
	for i := 0; i < len(b); i += 16 {
		end := min(i+16, len(b))
		sb.WriteString(formatHex(int64(i)))
		sb.WriteString(":")
		for _, c := range b[i:end] {
			sb.WriteByte(' ')
			sb.WriteByte(digits[c>>4])
			sb.WriteByte(digits[c&15])
		}
		sb.WriteString("\n")
	}
	return "", sb.String(), false
}

func (a *adminServer) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		a.opts.Logger.Debug("admin: rendering a page", zap.String("page", name), zap.Error(err))
	}
}
