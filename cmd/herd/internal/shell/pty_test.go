package shell

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/herd-io/herd/herdtest"
)

// ansiRe matches the control sequences readline writes (CSI sequences: cursor
// moves and erasures). A sequence cut in two by a read is left alone until its
// end arrives, so text already matched keeps its place.
var ansiRe = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]`)

// stripANSI removes control sequences and carriage returns, leaving the text a
// person would read (redrawn lines appear more than once).
func stripANSI(s string) string {
	return strings.ReplaceAll(ansiRe.ReplaceAllString(s, ""), "\r", "")
}

// ptyScreen collects what the shell writes to the terminal, read from the
// pty's master side by a goroutine.
type ptyScreen struct {
	out  *syncBuffer
	done chan struct{} // closed when the reader goroutine ends
	seen int           // stripped output before this offset has been matched
}

func readScreen(master *os.File) *ptyScreen {
	s := &ptyScreen{out: newSyncBuffer(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.out.Write(buf[:n])
			if err != nil { // EIO once the tty side is closed
				return
			}
		}
	}()
	return s
}

// waitFor blocks until want appears in the stripped output after everything
// matched so far, failing the test at ctx's deadline.
func (s *ptyScreen) waitFor(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	for {
		text := stripANSI(s.out.String())
		if i := strings.Index(text[s.seen:], want); i >= 0 {
			s.seen += i + len(want)
			return
		}
		select {
		case <-s.out.wrote:
		case <-s.done:
			if !strings.Contains(stripANSI(s.out.String())[s.seen:], want) {
				t.Fatalf("terminal closed before %q appeared; screen:\n%s", want, stripANSI(s.out.String()))
			}
		case <-ctx.Done():
			t.Fatalf("terminal never showed %q after offset %d; screen:\n%s", want, s.seen, text)
		}
	}
}

// TestInteractiveThroughPty runs Main on a real pseudo-terminal, as a person
// at a terminal would: readline puts the tty in raw mode and echoes, completes
// paths on TAB, recalls history with the arrow keys, and restores the tty.
func TestInteractiveThroughPty(t *testing.T) {
	srv := herdtest.Start(t)
	master, tty, err := pty.Open()
	if errors.Is(err, pty.ErrUnsupported) {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	// A fixed size, so line wrapping does not depend on where the test runs.
	if err := pty.Setsize(master, &pty.Winsize{Rows: 40, Cols: 160}); err != nil {
		t.Fatal(err)
	}
	screen := readScreen(master)
	ctx := testCtx(t)
	mainCtx, stop := context.WithCancel(ctx)
	exit, mainDone := -1, make(chan struct{})
	go func() {
		defer close(mainDone)
		exit = Main(mainCtx, []string{"-server", srv.Addr}, tty, tty, tty)
	}()
	// If the test fails half-way, stop the shell, then hang up the terminal:
	// that ends the shell's reads of the tty and our reads of the master.
	defer func() {
		bound, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stop()
		select {
		case <-mainDone:
		case <-bound.Done():
		}
		tty.Close()
		select {
		case <-screen.done:
		case <-bound.Done():
		}
	}()

	send := func(s string) {
		t.Helper()
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	prompt := func(n string) string { return "[zk: " + srv.Addr + "(CONNECTED) " + n + "] " }

	screen.waitFor(t, ctx, "Connecting to "+srv.Addr+"\nWelcome to herd shell!\n")
	screen.waitFor(t, ctx, prompt("0"))
	send("create /pty hello\r")
	screen.waitFor(t, ctx, "create /pty hello\nCreated /pty\n")
	screen.waitFor(t, ctx, prompt("1"))
	send("get /p\t") // a TAB reaches readline only in raw mode
	screen.waitFor(t, ctx, "get /pty")
	send("\r")
	screen.waitFor(t, ctx, "get /pty\nhello\n")
	screen.waitFor(t, ctx, prompt("2"))
	send("\x1b[A") // up arrow recalls the last command
	screen.waitFor(t, ctx, "get /pty")
	send("\r")
	screen.waitFor(t, ctx, "get /pty\nhello\n")
	screen.waitFor(t, ctx, prompt("3"))
	send("quit\r")
	select {
	case <-mainDone:
	case <-ctx.Done():
		t.Fatalf("quit did not end the shell; screen:\n%s", stripANSI(screen.out.String()))
	}
	if exit != 0 {
		t.Fatalf("exit %d; screen:\n%s", exit, stripANSI(screen.out.String()))
	}
	// The shell has given the terminal back in cooked mode: the line
	// discipline itself echoes what is typed, though nobody reads it.
	send("after\r")
	screen.waitFor(t, ctx, "after\n")
	// Every goroutine of the shell has ended; hanging up the tty ends ours.
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	<-screen.done
}
