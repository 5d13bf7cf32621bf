package shell

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSeedSessionPrintsWhatZkCliPrints(t *testing.T) {
	out, errs, code, _ := runFake(t, seedSession, nil)
	want := `[zookeeper]
[A, zookeeper]
[child1]
cZxid = 0x1
ctime = Wed Nov 25 17:11:31 UTC 2026
mZxid = 0x3
mtime = Wed Nov 25 17:11:33 UTC 2026
pZxid = 0x2
cversion = 1
dataVersion = 1
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 4
numChildren = 1
1000

`
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if errs != "Created /A\nCreated /A/child1\n" {
		t.Errorf("stderr = %q", errs)
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestErrorsReadLikeZkCliAndFailTheScript(t *testing.T) {
	cases := []struct{ cmds, stderr string }{
		{"get /x\n", "Node does not exist: /x\n"},
		{"create /A\ncreate /A\n", "Created /A\nNode already exists: /A\n"},
		{"create /A\ncreate /A/b\ndelete /A\n", "Created /A\nCreated /A/b\nNode not empty: /A\n"},
		{"create /A\nset -v 7 /A x\n", "Created /A\nversion No is not valid : /A\n"},
		{"ls\n", "ls [-s] [-w] [-R] path\n"},
		{"ls -x /\n", "Unrecognized option: -x\n"},
		{"create -c -e /C\n", "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.\n"},
		{"create -t 10 -e /C\n", "TTLs cannot be used with Ephemeral znodes\n"},
		{"create /A x bad\n", "bad acl: bad does not have the form scheme:id:perm\n"},
		{"removewatches /A\n", "KeeperErrorCode = No such watcher for /A\n"},
		{"reconfig -add 1=a:1:2;3\n", "KeeperErrorCode = Reconfig is disabled\n"},
		{"redo 5\n", "Command index out of range\n"},
	}
	for _, c := range cases {
		_, errs, code, _ := runFake(t, c.cmds, nil)
		if errs != c.stderr || code != 1 {
			t.Errorf("%q: stderr %q exit %d, want %q exit 1", c.cmds, errs, code, c.stderr)
		}
	}
}

func TestUnknownCommandPrintsUsage(t *testing.T) {
	_, errs, code, _ := runFake(t, "bogus\n", nil)
	if code != 1 || !strings.HasPrefix(errs, "ZooKeeper -server host:port") ||
		!strings.Contains(errs, "\tls [-s] [-w] [-R] path\n") || !strings.HasSuffix(errs, "Command not found: Command not found bogus\n") {
		t.Fatalf("exit %d stderr:\n%s", code, errs)
	}
}

func TestStatFlagsAndCreateModes(t *testing.T) {
	out, errs, code, f := runFake(t, "create -e /E data\ncreate -s /S\ncreate -s -e /S\ngetEphemerals\nget -s /E\nls -s /\n", nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if errs != "Created /E\nCreated /S0000000001\nCreated /S0000000002\n" {
		t.Errorf("stderr %q", errs)
	}
	wantHead := "[/E, /S0000000002]\ndata\ncZxid = 0x1\n"
	if !strings.HasPrefix(out, wantHead) || !strings.Contains(out, "ephemeralOwner = 0x100000abc\n") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(out, "[E, S0000000001, S0000000002, zookeeper]\ncZxid = 0x0\n") {
		t.Errorf("ls -s output:\n%s", out)
	}
	_ = f
}

func TestNegativeEphemeralOwnerPrintsAsUnsignedHex(t *testing.T) {
	if got := hex(-0x7000000000000000); got != "0x9000000000000000" {
		t.Fatalf("hex = %s", got)
	}
}

func TestWatchEventsPrintAsZkCli(t *testing.T) {
	out, _, code, _ := runFake(t, "create /A\nget -w /A\nset /A 2\nls -w /A\ncreate /A/c\nprintwatches off\nget -w /A\nset /A 3\nprintwatches\n", nil)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := "null\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/A\n" +
		"[]\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeChildrenChanged path:/A\n2\nprintwatches is off\n"
	if out != want {
		t.Fatalf("stdout %q\nwant   %q", out, want)
	}
}

func TestACLs(t *testing.T) {
	out, errs, code, _ := runFake(t, "create /A x digest:bob:abc=:cdrwa,ip:10.0.0.1:r\ngetAcl /A\nsetAcl -s /A world:anyone:rw\ngetAcl /A\naddauth digest bob:secret\nwhoami\n", nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "'digest,'bob:abc=\n: cdrwa\n'ip,'10.0.0.1\n: r\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("getAcl:\n%s", out)
	}
	if !strings.Contains(out, "aclVersion = 1\n") || !strings.Contains(out, "'world,'anyone\n: rw\n") {
		t.Fatalf("setAcl -s / getAcl:\n%s", out)
	}
	if !strings.HasSuffix(out, "Auth scheme: User\nip: 127.0.0.1\ndigest: bob\n") {
		t.Fatalf("whoami:\n%s", out)
	}
}

func TestDeleteAllAndRecursiveListing(t *testing.T) {
	out, errs, code, f := runFake(t, "create /A\ncreate /A/b\ncreate /A/b/c\ncreate /A/a\nls -R /A\ngetAllChildrenNumber /A\ndeleteall /A\nls /\n", nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "/A\n/A/a\n/A/b\n/A/b/c\n3\n[zookeeper]\n"
	if out != want {
		t.Fatalf("stdout %q want %q", out, want)
	}
	if f.nodes["/A"] != nil {
		t.Fatal("/A still exists")
	}
}

func TestTreeDrawsSubtree(t *testing.T) {
	out, _, code, _ := runFake(t, "create /A\ncreate /A/b\ncreate /A/b/c\ncreate /A/d\ntree /\n", nil)
	want := `/
├── A
│   ├── b
│   │   └── c
│   └── d
└── zookeeper
    ├── config
    └── quota
`
	if code != 0 || out != want {
		t.Fatalf("exit %d tree:\n%s\nwant:\n%s", code, out, want)
	}
}

func TestHistoryAndRedo(t *testing.T) {
	out, errs, code, _ := runFake(t, "create /A\nset /A one\nget /A\nset /A two\nredo 2\nhistory\nredo 99\nredo 6\n", nil)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (redo of a redo)", code)
	}
	want := "one\ntwo\n0 - create /A\n1 - set /A one\n2 - get /A\n3 - set /A two\n4 - get /A\n5 - history\n"
	if out != want {
		t.Fatalf("stdout %q\nwant %q", out, want)
	}
	if errs != "Created /A\nCommand index out of range\nNo redoing redos\n" {
		t.Fatalf("stderr %q", errs)
	}
}

func TestJSONOutput(t *testing.T) {
	out, errs, code, _ := runFake(t, "create /A x\nls -s /\nget /A\nstat /nope\ntree /A\n", func(c *config) { c.jsonOut = true })
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("stdout:\n%s", out)
	}
	var created struct{ Path string }
	var ls struct {
		Children []string
		Stat     map[string]int64
	}
	var get struct{ Data, Text string }
	var tree treeNode
	for i, v := range []any{&created, &ls, &get, &tree} {
		if err := json.Unmarshal([]byte(lines[i]), v); err != nil {
			t.Fatalf("line %d %q: %v", i, lines[i], err)
		}
	}
	if created.Path != "/A" || strings.Join(ls.Children, ",") != "A,zookeeper" || ls.Stat["numChildren"] != 2 ||
		get.Data != "eA==" || get.Text != "x" || tree.Name != "/A" {
		t.Fatalf("decoded %+v %+v %+v %+v", created, ls, get, tree)
	}
	var e struct{ Error, Code string }
	if err := json.Unmarshal([]byte(errs), &e); err != nil || e.Error != "Node does not exist: /nope" || e.Code != "NONODE" {
		t.Fatalf("stderr %q (%v)", errs, err)
	}
}

func TestSingleCommandExitStatus(t *testing.T) {
	if _, _, code, _ := runFake(t, "", func(c *config) { c.command = "ls /" }); code != 0 {
		t.Errorf("ls / exit %d", code)
	}
	if _, errs, code, _ := runFake(t, "", func(c *config) { c.command = "get /missing" }); code != 1 || errs != "Node does not exist: /missing\n" {
		t.Errorf("get /missing exit %d stderr %q", code, errs)
	}
}

func TestQuitStopsScript(t *testing.T) {
	out, _, code, f := runFake(t, "ls /\nquit\nls /\n", nil)
	if code != 0 || out != "[zookeeper]\n" || !f.closed {
		t.Fatalf("exit %d out %q closed %v", code, out, f.closed)
	}
}

func TestCloseThenNotConnected(t *testing.T) {
	_, errs, code, _ := runFake(t, "close\nls /\n", nil)
	if code != 1 || errs != "Not connected\n" {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
}
