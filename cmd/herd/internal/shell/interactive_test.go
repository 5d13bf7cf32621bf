package shell

import (
	"io"
	"strings"
	"testing"

	"github.com/chzyer/readline"
)

// TestInteractiveThroughPipes drives the readline loop as a terminal would,
// over pipes: prompt, command and path completion, history, quit.
func TestInteractiveThroughPipes(t *testing.T) {
	ctx := testCtx(t)
	inR, inW := io.Pipe()
	defer inW.Close()
	out := newSyncBuffer()
	var fake *fakeClient
	cfg := &config{servers: "fake:2181", terminal: true, stdin: inR, stdout: out, stderr: out, dial: fakeDialer(&fake),
		rlConfig: func(rc *readline.Config) {
			rc.FuncIsTerminal = func() bool { return true }
			rc.FuncMakeRaw = func() error { return nil }
			rc.FuncExitRaw = func() error { return nil }
			rc.FuncGetWidth = func() int { return 200 }
			rc.FuncOnWidthChanged = func(func()) {}
		}}
	done := make(chan int, 1)
	go func() { done <- run(ctx, cfg) }()

	send := func(s string) {
		if _, err := io.WriteString(inW, s); err != nil {
			t.Fatal(err)
		}
	}
	out.waitFor(t, ctx, "[zk: fake:2181(CONNECTED) 0] ")
	if !strings.HasPrefix(out.String(), "Connecting to fake:2181\n") {
		t.Fatalf("banner: %q", out.String())
	}
	send("create /Apple pie\r")
	out.waitFor(t, ctx, "Created /Apple")
	out.waitFor(t, ctx, "[zk: fake:2181(CONNECTED) 1] ")
	send("get /Ap\t\r") // path completion
	out.waitFor(t, ctx, "pie\n")
	send("get -w /Apple\r")
	out.waitFor(t, ctx, "[zk: fake:2181(CONNECTED) 3] ")
	send("set /Apple tart\r") // fires the watch; printed as zkCli prints it
	out.waitFor(t, ctx, "WatchedEvent state:SyncConnected type:NodeDataChanged path:/Apple")
	send("histo\t\r") // command completion
	out.waitFor(t, ctx, "1 - get /Apple\n2 - get -w /Apple")
	send("\x1b[A\r") // up arrow recalls "history"
	out.waitFor(t, ctx, "5 - history")
	send("quit\r")
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; output:\n%s", code, out.String())
	}
	if !fake.closed {
		t.Fatal("quit did not close the session")
	}
}

func TestCompleter(t *testing.T) {
	_, _, _, f := runFake(t, "create /Apple\ncreate /Apricot\ncreate /Apple/seed\n", nil)
	sh := newShell(nil, DialOptions{}, false, io.Discard, io.Discard)
	sh.client = f
	c := &completer{sh: sh}
	got, n := c.Do([]rune("ls /Ap"), 6)
	if n != 2 || len(got) != 2 || string(got[0]) != "ple" || string(got[1]) != "ricot" {
		t.Fatalf("paths %q %d", got, n)
	}
	got, n = c.Do([]rune("ls /Apple/s"), 11)
	if n != 1 || len(got) != 1 || string(got[0]) != "eed" {
		t.Fatalf("nested %q %d", got, n)
	}
	got, n = c.Do([]rune("getA"), 4)
	if n != 4 || len(got) != 2 || string(got[0]) != "cl " || string(got[1]) != "llChildrenNumber " {
		t.Fatalf("commands %q %d", got, n)
	}
}
