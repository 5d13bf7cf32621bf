package shell

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
	"go.uber.org/goleak"
)

// One Apache ZooKeeper serves the end-to-end tests that do not need a clean
// tree; it is stopped before the leak check.
var peer zkpeer.Shared

func TestMain(m *testing.M) {
	// Stat times print in the local zone, as Java's Date.toString does; pin it.
	time.Local = time.UTC
	code := m.Run()
	peer.Stop()
	if code == 0 {
		// readline v1.5.1's Operation.ioloop blocks forever sending io.EOF
		// after Close (nobody reads its error channel); it is the library's,
		// one per interactive session, and harmless in a process that exits.
		if err := goleak.Find(goleak.IgnoreTopFunction("github.com/chzyer/readline.(*Operation).ioloop")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// peerAddr returns the shared ZooKeeper's address, starting it on first use.
func peerAddr(t *testing.T) string { return peer.Addr(t) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runFake runs the shell in script mode on stdin against a fresh fake.
func runFake(t *testing.T, stdin string, mutate func(*config)) (stdout, stderr string, code int, fake *fakeClient) {
	t.Helper()
	var out, errb bytes.Buffer
	cfg := &config{servers: "fake:2181", stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	cfg.dial = fakeDialer(&fake)
	if mutate != nil {
		mutate(cfg)
	}
	code = run(testCtx(t), cfg)
	return out.String(), errb.String(), code, fake
}

// seedSession is the session from the issue: what a person types first.
const seedSession = "ls /\ncreate /A\ncreate /A/child1\nls /\nls /A\nset /A 1000\nstat /A\nget /A\nget /\n"

// syncBuffer is a goroutine-safe output sink that can wait for text.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor blocks until the output contains want, failing the test at ctx's deadline.
func (s *syncBuffer) waitFor(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.wrote:
		case <-ctx.Done():
			t.Fatalf("output never contained %q; got:\n%s", want, s.String())
		}
	}
}
