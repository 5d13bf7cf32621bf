package wireclient

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
	"go.uber.org/goleak"
)

// One Apache ZooKeeper serves every test in the package: starting a JVM per
// test would make the suite slow.
var peer zkpeer.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	peer.Stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// peerAddr returns the shared ZooKeeper's address, starting it on first use.
func peerAddr(t *testing.T) string { return peer.Addr(t) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, addr string, opts Options) *Conn {
	t.Helper()
	c, err := Dial(testCtx(t), addr, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return c
}
