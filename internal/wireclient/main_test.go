package wireclient

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
	"go.uber.org/goleak"
)

// One Apache ZooKeeper serves every test in the package: starting a JVM per
// test would make the suite slow.
var (
	peerOnce sync.Once
	peerSrv  *zkpeer.Server
	peerErr  error
	peerDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if peerSrv != nil {
		peerSrv.Stop()
	}
	if peerDir != "" {
		os.RemoveAll(peerDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// peerAddr returns the shared ZooKeeper's address, starting it on first use.
func peerAddr(t *testing.T) string {
	t.Helper()
	zkpeer.Require(t, zkpeer.Jar)
	peerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		peerDir, peerErr = os.MkdirTemp("", "wireclient-zk")
		if peerErr == nil {
			peerSrv, peerErr = zkpeer.Start(ctx, peerDir, zkpeer.Options{})
		}
	})
	if peerErr != nil {
		t.Fatalf("start ZooKeeper: %v", peerErr)
	}
	return peerSrv.Addr
}

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
