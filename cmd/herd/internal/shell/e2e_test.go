package shell

import (
	"bytes"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/proto"
)

// mainRun calls Main as `herd shell` would be called.
func mainRun(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(testCtx(t), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

var (
	zxidRe = regexp.MustCompile(`(?m)^(cZxid|mZxid|pZxid) = 0x[0-9a-f]+$`)
	timeRe = regexp.MustCompile(`(?m)^(ctime|mtime) = \w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}$`)
)

// againstServers runs check as a subtest against an in-process herd server
// and against Apache ZooKeeper: the shell must print the same for both. herd
// is started afresh for each test; ZooKeeper is the shared one unless fresh
// asks for a clean tree.
func againstServers(t *testing.T, fresh bool, check func(t *testing.T, addr string)) {
	t.Run("herd", func(t *testing.T) { check(t, herdtest.Start(t).Addr) })
	t.Run("zookeeper", func(t *testing.T) {
		if fresh {
			check(t, zkpeer.StartT(t, zkpeer.Options{}).Addr)
		} else {
			check(t, peerAddr(t))
		}
	})
}

// normalise hides the values that differ between runs: zxids and times.
func normalise(s string) string {
	s = zxidRe.ReplaceAllString(s, "$1 = 0x?")
	return timeRe.ReplaceAllString(s, "$1 = DATE")
}

func TestSeedSessionAgainstServers(t *testing.T) {
	againstServers(t, true, testSeedSession)
}

func testSeedSession(t *testing.T, addr string) {
	out, errs, code := mainRun(t, seedSession, "-server", addr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := `[zookeeper]
[A, zookeeper]
[child1]
cZxid = 0x?
ctime = DATE
mZxid = 0x?
mtime = DATE
pZxid = 0x?
cversion = 1
dataVersion = 1
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 4
numChildren = 1
1000

`
	if got := normalise(out); got != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if errs != "Created /A\nCreated /A/child1\n" {
		t.Fatalf("stderr %q", errs)
	}
}

func TestScriptedExitCodesAgainstServers(t *testing.T) {
	againstServers(t, false, testScriptedExitCodes)
}

func testScriptedExitCodes(t *testing.T, addr string) {
	mainRun(t, "", "-server", addr, "-c", "deleteall /exit-a") // left by an earlier -count run
	if _, errs, code := mainRun(t, "", "-server", addr, "-c", "create /exit-a x"); code != 0 || errs != "Created /exit-a\n" {
		t.Fatalf("create: exit %d %q", code, errs)
	}
	if out, _, code := mainRun(t, "", "-server", addr, "get", "/exit-a"); code != 0 || out != "x\n" {
		t.Fatalf("get: exit %d %q", code, out)
	}
	if _, errs, code := mainRun(t, "", "-server", addr, "-c", "get /exit-missing"); code != 1 || errs != "Node does not exist: /exit-missing\n" {
		t.Fatalf("get missing: exit %d %q", code, errs)
	}
	if _, _, code := mainRun(t, "ls /\nget /exit-missing\nls /\n", "-server", addr); code != 1 {
		t.Fatalf("script with a failure: exit %d", code)
	}
	if out, _, code := mainRun(t, "", "-server", addr, "-o", "json", "-c", "stat /exit-a"); code != 0 || !strings.Contains(out, `"dataLength":1`) {
		t.Fatalf("json stat: exit %d %q", code, out)
	}
	if _, _, code := mainRun(t, "", "-bogus"); code != 2 {
		t.Fatalf("bad flag: exit %d", code)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	if _, errs, code := mainRun(t, "", "-server", closed, "-connect-timeout", "300ms", "-c", "ls /"); code != 1 || !strings.Contains(errs, "Unable to connect to "+closed) {
		t.Fatalf("unreachable: exit %d %q", code, errs)
	}
}

func TestExtendedOpsAgainstServers(t *testing.T) {
	againstServers(t, false, testExtendedOps)
}

func testExtendedOps(t *testing.T, addr string) {
	mainRun(t, "", "-server", addr, "-c", "deleteall /ext")
	cmds := "create /ext\ncreate -e /ext/e1\ncreate -s -e /ext/s\ngetEphemerals /ext\ngetAllChildrenNumber /ext\n" +
		"whoami\naddauth digest bob:pw\nwhoami\ncreate -c /ext/c\nsync /ext\ndeleteall /ext\nstat /ext\n"
	out, errs, code := mainRun(t, cmds, "-server", addr)
	if code != 1 { // the final stat fails
		t.Fatalf("exit %d: %s", code, errs)
	}
	// ZooKeeper lists the session's auth ids from a set: digest before ip here.
	want := "[/ext/e1, /ext/s0000000001]\n2\nAuth scheme: User\nip: 127.0.0.1\nAuth scheme: User\ndigest: bob\nip: 127.0.0.1\nSync is OK\n"
	if out != want {
		t.Fatalf("stdout %q\nwant   %q", out, want)
	}
	if !strings.HasSuffix(errs, "Created /ext/c\nNode does not exist: /ext\n") {
		t.Fatalf("stderr %q", errs)
	}
}

// TestReconnectRestoresSessionWatchesAndAuth breaks the TCP connection under
// the shell's client and checks that it re-attaches the same session and
// re-registers its watch, as zkCli's client does.
func TestReconnectRestoresSessionWatchesAndAuth(t *testing.T) {
	againstServers(t, false, testReconnectRestoresSessionWatchesAndAuth)
}

func testReconnectRestoresSessionWatchesAndAuth(t *testing.T, addr string) {
	ctx := testCtx(t)
	events := make(chan Event, 16)
	// The connection goes through a proxy that can cut it under the client.
	p, err := faultproxy.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := DialWire(ctx, p.Addr(), DialOptions{SessionTimeoutMs: 10000}, func(e Event) { events <- e })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	expect := func(state KeeperState, typ proto.EventType, path string) {
		t.Helper()
		select {
		case e := <-events:
			if e.State != state || e.Type != typ || e.Path != path {
				t.Fatalf("event %s, want state %s type %s path %q", watchedEvent(e), state, eventTypeName(typ), path)
			}
		case <-ctx.Done():
			t.Fatalf("no event (want %s %s)", state, eventTypeName(typ))
		}
	}
	expect(StateSyncConnected, proto.EventNone, "")
	_ = c.Delete(ctx, "/rc-w", -1) // left by an earlier -count run
	if _, err := c.Create(ctx, "/rc-eph", nil, proto.OpenACLUnsafe, proto.ModeEphemeral, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "/rc-w", []byte("1"), proto.OpenACLUnsafe, proto.ModePersistent, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.AddAuth(ctx, "digest", []byte("carol:pw")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, "/rc-w", true); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	expect(StateDisconnected, proto.EventNone, "")
	expect(StateSyncConnected, proto.EventNone, "")
	if p.Accepted() != 2 || c.State() != stateConnected {
		t.Fatalf("%d connections, state %s; want a second connection, CONNECTED", p.Accepted(), c.State())
	}
	// The ephemeral below is listed only for the session that made it.
	eph, err := c.GetEphemerals(ctx, "/rc-")
	if err != nil || len(eph) != 1 || eph[0] != "/rc-eph" {
		t.Fatalf("ephemerals %v %v", eph, err)
	}
	who, err := c.WhoAmI(ctx)
	if err != nil || len(who) != 2 || !slices.Contains(who, ClientInfo{AuthScheme: "digest", User: "carol"}) {
		t.Fatalf("whoami after reconnect %v %v", who, err)
	}
	if _, err := c.Set(ctx, "/rc-w", []byte("2"), -1); err != nil {
		t.Fatal(err)
	}
	expect(StateSyncConnected, proto.EventNodeDataChanged, "/rc-w")
}

func TestWatchesAndReconnectCommandsAgainstServers(t *testing.T) {
	againstServers(t, false, testWatchesAndReconnectCommands)
}

func testWatchesAndReconnectCommands(t *testing.T, addr string) {
	mainRun(t, "", "-server", addr, "-c", "deleteall /wt")
	cmds := "create /wt\naddWatch -m PERSISTENT_RECURSIVE /wt\ncreate /wt/a\nget -w /wt/a\nset /wt/a 1\n" +
		"removewatches /wt\nclose\nls /wt\nconnect " + addr + "\nls /wt\nstat -w /wt/none\ncreate /wt/none\n" +
		"removewatches /wt/nothing\ndeleteall /wt\nquit\n"
	out, errs, code := mainRun(t, cmds, "-server", addr)
	if code != 1 { // ls while closed and removewatches without a watch fail
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Events a request triggers are printed before the next command runs, so
	// the whole output is deterministic. The recursive watch and get -w share
	// zkCli's one default watcher: the change is reported once, as zkCli does.
	ev := func(typ, path string) string {
		return "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:" + typ + " path:" + path + "\n"
	}
	want := ev("NodeCreated", "/wt/a") + "null\n" + ev("NodeDataChanged", "/wt/a") +
		ev("PersistentWatchRemoved", "/wt") + "[a]\n" + ev("NodeCreated", "/wt/none")
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	for _, want := range []string{"Not connected\n", "Node does not exist: /wt/none\n", "KeeperErrorCode = No such watcher for /wt/nothing\n"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}
