package benchcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func run(args ...string) (int, string, string) {
	var out, errOut syncBuffer
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-nosuchflag"},
		{"-workload", "delete"},
		{"-conns", "x"},
		{"-duration", "0", "-ops", "0"},
		{"-conns", "-1"},
		{"extra"},
		{"-prefix", "noslash"},
	} {
		code, out, errOut := run(args...)
		if code != ExitUsage || out != "" || errOut == "" {
			t.Errorf("%v: code %d stdout %q stderr %q", args, code, out, errOut)
		}
	}
	if code, _, errOut := run("-h"); code != ExitOK || !strings.Contains(errOut, "-value-size") {
		t.Errorf("-h: code %d stderr %q", code, errOut)
	}
}

func TestBenchAgainstZooKeeper(t *testing.T) {
	peer := zkpeer.StartT(t, zkpeer.Options{})
	code, out, errOut := run("-server", peer.Addr, "-workload", "setData", "-conns", "2", "-goroutines", "2",
		"-ops", "100", "-value-size", "10")
	if code != ExitOK {
		t.Fatalf("code %d stderr %s", code, errOut)
	}
	for _, want := range []string{"workload    setData (2 conns x 2 goroutines)", "ops         100 ok, 0 errors", "ops/s", "p99"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut syncBuffer
	code := Main(ctx, []string{"-server", "127.0.0.1:1", "-ops", "1"}, &out, &errOut)
	if code != ExitError || !strings.Contains(errOut.String(), "context canceled") {
		t.Errorf("code %d stderr %q", code, errOut.String())
	}
}

// closedPort returns an address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestDeadPortReportedAtOnce: a refused connection is the answer; the run
// does not wait out its duration (an hour here) or a session timeout, and
// says what the network said.
func TestDeadPortReportedAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addr := closedPort(t)
	var out, errOut syncBuffer
	code := Main(ctx, []string{"-server", addr, "-duration", "1h"}, &out, &errOut)
	if ctx.Err() != nil {
		t.Fatal("Main still waited when the test's deadline passed")
	}
	want := "herd bench: loadgen: cannot connect to [" + addr + "]: dial tcp " + addr + ": connect: connection refused\n"
	if code != ExitError || errOut.String() != want || out.String() != "" {
		t.Fatalf("code %d stdout %q stderr %q\nwant stderr %q", code, out.String(), errOut.String(), want)
	}
}

// TestSilentServerEndsWithTheDuration: a server that accepts and never
// answers holds the run no longer than its -duration, and the error says so.
func TestSilentServerEndsWithTheDuration(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	defer func() {
		l.Close()
		<-accepted
		for _, c := range conns {
			c.Close()
		}
	}()
	// The session timeout (-timeout is not a flag; 10 s by default) is
	// longer than the run, which must win.
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
	defer cancel()
	var out, errOut syncBuffer
	code := Main(ctx, []string{"-server", l.Addr().String(), "-duration", "1s"}, &out, &errOut)
	if ctx.Err() != nil {
		t.Fatal("Main outlived the session timeout; the 1 s duration should have ended it")
	}
	if code != ExitError || !strings.Contains(errOut.String(), "within 1s: the server accepted the connection but did not complete the handshake") ||
		strings.Contains(errOut.String(), "context deadline exceeded") {
		t.Fatalf("code %d stderr %q", code, errOut.String())
	}
}

// TestProgressAndJSON: running totals arrive while the run is under way,
// and -o json gives one object with the report.
func TestProgressAndJSON(t *testing.T) {
	srv := herdtest.Start(t)
	code, out, errOut := run("-server", srv.Addr, "-workload", "getData", "-conns", "1", "-goroutines", "2",
		"-duration", "1500ms", "-progress", "100ms", "-o", "json")
	if code != ExitOK {
		t.Fatalf("code %d stderr %s", code, errOut)
	}
	var res struct {
		Workload  string
		Ops       int
		Errors    int
		OpsPerSec float64
		LatencyMs struct{ P50, P99 float64 }
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout is not one line: %q", out)
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Workload != "getData" || res.Ops == 0 ||
		res.OpsPerSec <= 0 || res.LatencyMs.P50 <= 0 || res.LatencyMs.P99 < res.LatencyMs.P50 {
		t.Fatalf("report %q: %+v %v", out, res, err)
	}
	var last int64
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	for _, l := range lines {
		var p struct{ Progress struct{ Ops int64 } }
		if err := json.Unmarshal([]byte(l), &p); err != nil || p.Progress.Ops < last {
			t.Fatalf("progress line %q (%v) after %d ops", l, err, last)
		}
		last = p.Progress.Ops
	}
	if len(lines) < 2 || last == 0 {
		t.Fatalf("progress on stderr: %q", errOut)
	}

	// The text form: one line per report on stderr, the report on stdout.
	code, out, errOut = run("-server", srv.Addr, "-workload", "getData", "-conns", "1", "-goroutines", "1",
		"-duration", "500ms", "-progress", "100ms")
	if code != ExitOK || !strings.Contains(out, "throughput") || !regexp.MustCompile(`(?m)^ +\S+s  \d+ ops  \d+ ops/s  0 errors$`).MatchString(errOut) {
		t.Fatalf("code %d stdout %q stderr %q", code, out, errOut)
	}
}
