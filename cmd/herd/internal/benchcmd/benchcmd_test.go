package benchcmd

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

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
