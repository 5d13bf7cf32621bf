package admin_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/admin"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium on url with extra flags (--dump-dom,
// --screenshot=...) and returns its standard output.
func chromium(t *testing.T, url string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.CommandContext(ctx, chromiumPath, append(args, url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Chromium's helpers share its process group: end them all with it.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", url, err)
	}
	return string(out)
}

var treeLink = regexp.MustCompile(`<a href="(/tree/[^"]*)">([^<]+)</a>`)

// links returns the tree links of a dumped DOM, by their text.
func links(dom string) map[string]string {
	out := map[string]string{}
	for _, m := range treeLink.FindAllStringSubmatch(dom, -1) {
		out[m[2]] = m[1]
	}
	return out
}

// TestWebViewInChromium loads the web view in headless Chromium: the
// overview lists the session, the tree expands by following the links the
// page itself renders, data shows as text or hex with the stat, and a znode
// a client creates appears on the next load.
func TestWebViewInChromium(t *testing.T) {
	zkpeer.Require(t, chromiumPath)
	s := herdtest.Start(t)
	hs := httptest.NewServer(admin.Handler(s.Server(), admin.Options{}))
	defer hs.Close()
	c := connect(t, s.Addr)
	for _, n := range []struct {
		path string
		data []byte
		flag int32
	}{
		{"/app", nil, 0},
		{"/app/config", []byte("timeout=30\nmode=fast"), 0},
		{"/app/blob", []byte{0x00, 0xff, 0x10, 'h', 'i'}, 0},
		{"/app/worker-", []byte("w"), zk.FlagEphemeral | zk.FlagSequence},
	} {
		if _, err := c.Create(n.path, n.data, n.flag, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}

	// The page loads in the browser, and the tree expands by the links it
	// renders.
	root := chromium(t, hs.URL+"/tree/", "--dump-dom")
	appLink, ok := links(root)["app"]
	if !ok || appLink != "/tree/app" {
		t.Fatalf("root page has no link to app (%q):\n%s", appLink, root)
	}
	app := chromium(t, hs.URL+appLink, "--dump-dom")
	l := links(app)
	for _, child := range []string{"config", "blob", "worker-0000000002"} {
		if _, ok := l[child]; !ok {
			t.Errorf("/app page lacks a link to %s:\n%s", child, app)
		}
	}
	if !strings.Contains(app, "Children (3)") || !strings.Contains(app, "<th>numChildren</th><td>3</td>") {
		t.Errorf("/app page: children count or numChildren missing:\n%s", app)
	}
	// A znode created now appears on the next load.
	if _, err := c.Create("/app/new-node", []byte("hello"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, ok := links(chromium(t, hs.URL+appLink, "--dump-dom"))["new-node"]; !ok {
		t.Error("a znode created by a client does not appear after a reload")
	}

	// The rest without a browser, to keep the test quick: data as text or
	// hex, the overview with the session.
	if _, config := get(t, hs.URL+l["config"]); !strings.Contains(config, "<pre id=\"data-text\">timeout=30\nmode=fast</pre>") {
		t.Errorf("config data not shown as text:\n%s", config)
	}
	if _, blob := get(t, hs.URL+l["blob"]); !strings.Contains(blob, "<pre id=\"data-hex\">0: 00 ff 10 68 69\n</pre>") {
		t.Errorf("blob data not shown as hex:\n%s", blob)
	}
	_, overview := get(t, hs.URL+"/")
	for _, want := range []string{`<td id="mode">standalone</td>`, "Sessions (1)", "0x" + hexString(c.SessionID()),
		`href="/tree/app/worker-0000000002"`} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q:\n%s", want, overview)
		}
	}

	// HERD_WEB_SCREENSHOT=path writes the README's screenshot of this page.
	if out := os.Getenv("HERD_WEB_SCREENSHOT"); out != "" {
		chromium(t, hs.URL+l["config"], "--screenshot="+out, "--window-size=900,760", "--hide-scrollbars")
	}
}

func hexString(n int64) string {
	const digits = "0123456789abcdef"
	u := uint64(n)
	b := []byte{}
	for u > 0 {
		b = append([]byte{digits[u&15]}, b...)
		u >>= 4
	}
	return string(b)
}

// TestTreePages checks the tree pages without a browser: a missing node is
// a 404 naming it, a bad path a 400, an ACL-protected node shows its stat
// but not its data.
func TestTreePages(t *testing.T) {
	s := herdtest.Start(t)
	hs := httptest.NewServer(admin.Handler(s.Server(), admin.Options{}))
	defer hs.Close()
	c := connect(t, s.Addr)
	if err := c.AddAuth("digest", []byte("u:p")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/secret", []byte("hidden"), 0, zk.DigestACL(zk.PermAll, "u", "p")); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, hs.URL+"/tree/nope"); code != 404 || !strings.Contains(body, "no node /nope") {
		t.Errorf("missing node: %d %s", code, body)
	}
	if code, _ := get(t, hs.URL+"/tree/secret/"); code != 400 {
		t.Errorf("trailing slash: %d, want 400", code)
	}
	if code, body := get(t, hs.URL+"/tree"); code != 200 || !strings.Contains(body, `href="/tree/zookeeper"`) {
		t.Errorf("/tree: %d %s", code, body)
	}
	code, body := get(t, hs.URL+"/tree/secret")
	if code != 200 || strings.Contains(body, "hidden") || !strings.Contains(body, `id="noaccess"`) ||
		!strings.Contains(body, "<th>dataLength</th><td>6</td>") {
		t.Errorf("ACL-protected node: %d %s", code, body)
	}
}
