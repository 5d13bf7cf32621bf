package shell

import (
	"net"
	"strings"
	"testing"
)

// TestChrootAgainstServers: "-server host:port/A" works as in zkCli: paths
// are relative to /A, in requests, replies and watch events.
func TestChrootAgainstServers(t *testing.T) {
	againstServers(t, false, testChroot)
}

func testChroot(t *testing.T, addr string) {
	mainRun(t, "", "-server", addr, "-c", "deleteall /chr")
	if _, errs, code := mainRun(t, "", "-server", addr, "-c", "create /chr"); code != 0 {
		t.Fatalf("create /chr: exit %d %s", code, errs)
	}
	cmds := "ls /\ncreate /b x\nls /\nget -w /b\nset /b y\ncreate -s /b/s-\nls /b\nget /nope\n"
	out, errs, code := mainRun(t, cmds, "-server", addr+"/chr")
	if code != 1 { // get /nope
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "[]\n[b]\nx\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/b\n[s-0000000000]\n"
	if out != want {
		t.Errorf("stdout %q\nwant   %q", out, want)
	}
	if want := "Created /b\nCreated /b/s-0000000000\nNode does not exist: /nope\n"; errs != want {
		t.Errorf("stderr %q\nwant   %q", errs, want)
	}
	if out, _, _ := mainRun(t, "", "-server", addr, "get", "/chr/b"); out != "y\n" {
		t.Errorf("get /chr/b without the chroot: %q", out)
	}
	// A chroot that does not exist yet: zkCli connects and reports the node.
	if _, errs, code := mainRun(t, "", "-server", addr+"/chr-none", "ls", "/"); code != 1 || errs != "Node does not exist: /\n" {
		t.Errorf("missing chroot: exit %d %q", code, errs)
	}
	mainRun(t, "", "-server", addr, "-c", "deleteall /chr")
}

// TestConnectErrorsNameTheNetworkError: the message says what the network
// said, not which internal package gave up.
func TestConnectErrorsNameTheNetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	// The window is long enough that the first dial ends before it on a
	// loaded machine: a dial the deadline cuts says "i/o timeout" instead.
	_, errs, code := mainRun(t, "", "-server", closed+"/A", "-connect-timeout", "2s", "-c", "ls /")
	want := "Unable to connect to " + closed + "/A: dial tcp " + closed + ": connect: connection refused\n"
	if code != 1 || errs != want {
		t.Fatalf("exit %d stderr %q\nwant %q", code, errs, want)
	}
	_, errs, _ = mainRun(t, "", "-server", closed, "-connect-timeout", "200ms", "-o", "json", "-c", "ls /")
	if !strings.Contains(errs, `"code":"CONNECTFAILED"`) || strings.Contains(errs, "wireclient") {
		t.Fatalf("json: %q", errs)
	}
}
