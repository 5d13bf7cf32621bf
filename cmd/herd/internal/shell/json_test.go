package shell

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// jsonShell is a shell on a fresh fake with -o json; run returns what one
// command printed on stdout and stderr.
type jsonShell struct {
	sh        *Shell
	fake      *fakeClient
	out, errb bytes.Buffer
}

func newJSONShell(t *testing.T) *jsonShell {
	t.Helper()
	j := &jsonShell{}
	j.sh = newShell(fakeDialer(&j.fake), DialOptions{}, true, &j.out, &j.errb)
	if err := j.sh.Connect(testCtx(t), "fake:2181"); err != nil {
		t.Fatal(err)
	}
	return j
}

func (j *jsonShell) run(t *testing.T, line string) (stdout, stderr string) {
	t.Helper()
	j.out.Reset()
	j.errb.Reset()
	_ = j.sh.Execute(testCtx(t), line)
	return j.out.String(), j.errb.String()
}

// oneObject decodes s as exactly one JSON object on one line.
func oneObject(t *testing.T, what, s string) map[string]any {
	t.Helper()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Fatalf("%s: want one line, got %q", what, s)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %q is not a JSON object: %v", what, s, err)
	}
	return v
}

// TestEveryCommandPrintsOneJSONLine runs every command of the table with
// -o json: each prints exactly one JSON object, on stdout when it succeeds
// and on stderr (with a code) when it fails, so a script can read one line
// per command it sent. Writes (set, delete, addauth, ...) print too. (Watch
// events print lines of their own, {"event":...}; none fire here.)
func TestEveryCommandPrintsOneJSONLine(t *testing.T) {
	setup := []string{"create /A x", "create /A/b"}
	cases := map[string]struct {
		pre, line string
		fails     bool
		wantKey   string
	}{
		"ls":                   {line: "ls /A", wantKey: "children"},
		"get":                  {line: "get /A", wantKey: "data"},
		"stat":                 {line: "stat /A", wantKey: "stat"},
		"create":               {line: "create /C", wantKey: "path"},
		"set":                  {line: "set /A y", wantKey: "stat"},
		"delete":               {line: "delete /A/b", wantKey: "deleted"},
		"deleteall":            {line: "deleteall /A", wantKey: "deleted"},
		"sync":                 {line: "sync /A", wantKey: "synced"},
		"getAcl":               {line: "getAcl /A", wantKey: "acl"},
		"setAcl":               {line: "setAcl /A world:anyone:cdrwa", wantKey: "stat"},
		"addauth":              {line: "addauth digest u:p", wantKey: "scheme"},
		"whoami":               {line: "whoami", wantKey: "clientInfo"},
		"getEphemerals":        {line: "getEphemerals /", wantKey: "ephemerals"},
		"getAllChildrenNumber": {line: "getAllChildrenNumber /A", wantKey: "totalNumber"},
		"addWatch":             {line: "addWatch /A", wantKey: "mode"},
		"removewatches":        {pre: "printwatches off\nget -w /A", line: "removewatches /A", wantKey: "type"},
		"printwatches":         {line: "printwatches off", wantKey: "printwatches"},
		"config":               {line: "config", wantKey: "config"},
		"reconfig":             {line: "reconfig -add 1=a:1:2;3", fails: true, wantKey: "code"},
		"connect":              {line: "connect fake:2181", wantKey: "state"},
		"close":                {line: "close", wantKey: "state"},
		"history":              {line: "history", wantKey: "history"},
		"redo":                 {line: "redo 0", fails: true, wantKey: "code"}, // a second create /A
		"version":              {line: "version", wantKey: "version"},
		"quit":                 {line: "quit", wantKey: "state"},
		"tree":                 {line: "tree /A", wantKey: "name"},
		"setquota":             {line: "setquota -n 5 /A", wantKey: "quota"},
		"listquota":            {pre: "setquota -n 5 /A", line: "listquota /A", wantKey: "stat"},
		"delquota":             {pre: "setquota -n 5 /A", line: "delquota /A", wantKey: "deleted"},
	}
	for _, name := range commandNames() {
		c, ok := cases[name]
		if !ok {
			t.Errorf("command %s has no case here", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			j := newJSONShell(t)
			for _, l := range append(setup, strings.Split(c.pre, "\n")...) {
				if out, errs := j.run(t, l); errs != "" {
					t.Fatalf("setup %q: %q %q", l, out, errs)
				}
			}
			out, errs := j.run(t, c.line)
			got, silent := out, errs
			if c.fails {
				got, silent = errs, out
			}
			if silent != "" {
				t.Fatalf("%q printed %q on the other stream", c.line, silent)
			}
			if v := oneObject(t, c.line, got); v[c.wantKey] == nil {
				t.Fatalf("%q: no %q in %v", c.line, c.wantKey, v)
			}
		})
	}
}

func TestJSONErrorsCarryTheirCode(t *testing.T) {
	j := newJSONShell(t)
	j.run(t, "create /A")
	for _, c := range []struct {
		line, code string
		rc         float64 // 0: none
	}{
		{"get /nope", "NONODE", -101},
		{"create /A", "NODEEXISTS", -110},
		{"set -v 9 /A x", "BADVERSION", -103},
		{"ls A", "BADARGUMENTS", -8},
		{"ls -x /", "USAGE", 0},
		{"bogus", "UNKNOWNCOMMAND", 0},
		{"close", "", 0},
		{"ls /", "NOTCONNECTED", 0},
	} {
		out, errs := j.run(t, c.line)
		if c.code == "" {
			continue
		}
		if out != "" {
			t.Errorf("%q: stdout %q", c.line, out)
		}
		v := oneObject(t, c.line, errs)
		rc, hasRC := v["rc"]
		if v["code"] != c.code || (c.rc != 0) != hasRC || hasRC && rc != c.rc || v["error"] == "" {
			t.Errorf("%q: %v, want code %s rc %v", c.line, v, c.code, c.rc)
		}
	}
}

// TestJSONDataKeysDoNotDependOnTheBytes: "data" is always base64, "text"
// is added for UTF-8, so a reader never looks in two places.
func TestJSONDataKeysDoNotDependOnTheBytes(t *testing.T) {
	j := newJSONShell(t)
	j.run(t, "create /text héllo")
	j.run(t, "create /bin")
	j.run(t, "create /none")
	j.fake.mu.Lock()
	j.fake.nodes["/bin"].data = []byte{0xff, 0x00, 0xfe}
	j.fake.nodes["/none"].data = nil
	j.fake.mu.Unlock()
	for _, c := range []struct {
		path string
		data any // base64, or nil for JSON null
		text any // nil: absent
	}{
		{"/text", base64.StdEncoding.EncodeToString([]byte("héllo")), "héllo"},
		{"/bin", base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe}), nil},
		{"/none", nil, nil},
	} {
		out, _ := j.run(t, "get "+c.path)
		v := oneObject(t, c.path, out)
		data, hasData := v["data"]
		if !hasData || data != c.data || v["text"] != c.text {
			t.Errorf("get %s: %v, want data %v text %v", c.path, v, c.data, c.text)
		}
		if _, ok := v["dataBase64"]; ok {
			t.Errorf("get %s: a second data key: %v", c.path, v)
		}
	}
}

// TestPathsCheckedAsZkCli: a path the Java client refuses never reaches the
// server; the message is PathUtils'. TestShellPathMessagesMatchZkCli in
// integration compares these with zkCli.sh itself.
func TestPathsCheckedAsZkCli(t *testing.T) {
	cases := []struct{ cmd, stderr string }{
		{"ls A", "Path must start with / character"},
		{"ls /a/", "Path must not end with / character"},
		{"create /a/", "Path must not end with / character"},
		{"create A", "Path must start with / character"},
		{`ls ""`, "Path length must be > 0"},
		{"get /a//b", `Invalid path string "/a//b" caused by empty node name specified @3`},
		{"create /a/./b", `Invalid path string "/a/./b" caused by relative paths not allowed @3`},
		{"create /a/../b", `Invalid path string "/a/../b" caused by relative paths not allowed @4`},
		{"stat /..", `Invalid path string "/.." caused by relative paths not allowed @2`},
		{"set A x", "Path must start with / character"},
		{"delete A", "Path must start with / character"},
		{"deleteall A", "Path must start with / character"},
		{"sync A", "Path must start with / character"},
		{"getAcl A", "Path must start with / character"},
		{"setAcl A world:anyone:r", "Path must start with / character"},
		{"addWatch A", "Path must start with / character"},
		{"removewatches A", "Path must start with / character"},
		{"getAllChildrenNumber A", "Path must start with / character"},
		{"getEphemerals A", "Path must start with / character"},
		{"tree A", "Path must start with / character"},
		{"get /a\x01", "Invalid path string \"/a\x01\" caused by invalid character @2"},
		// A sequential create may end in "/": the server appends the number.
		{"create -s /a/", "Node does not exist: /a/"},
		{"create -s /a//", `Invalid path string "/a//1" caused by empty node name specified @3`},
		// Names merely containing dots are fine.
		{"get /a/.b", "Node does not exist: /a/.b"},
	}
	for _, c := range cases {
		_, errs, code, _ := runFake(t, c.cmd+"\n", nil)
		if errs != c.stderr+"\n" || code != 1 {
			t.Errorf("%q: stderr %q exit %d, want %q exit 1", c.cmd, errs, code, c.stderr)
		}
	}
}

func TestBadChrootIsRefusedAtStart(t *testing.T) {
	for _, server := range []string{"fake:2181/A/", "fake:2181//A", "fake:2181/A/../B"} {
		_, errs, code, fake := runFake(t, "ls /\n", func(c *config) { c.servers = server })
		if code != exitBadArgs || fake != nil || !strings.HasPrefix(errs, "Invalid chroot ") || !strings.Contains(errs, server) {
			t.Errorf("-server %s: exit %d stderr %q dialled %v", server, code, errs, fake != nil)
		}
	}
	if _, errs, code, _ := runFake(t, "ls /\n", func(c *config) { c.servers = "fake:2181/" }); code != 0 {
		t.Errorf("-server fake:2181/ (no chroot): exit %d %q", code, errs)
	}
}
