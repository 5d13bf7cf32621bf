package framework_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/internal/testtarget"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// wait is the deadline for anything a test waits for.
const wait = 30 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// newClient connects to connect, waits for the session and closes the client
// at test end. Retries are quick so failures show fast.
func newClient(t testing.TB, connect string, opts ...framework.Option) *framework.Client {
	t.Helper()
	base := []framework.Option{
		framework.WithSessionTimeout(10 * time.Second),
		framework.WithConnectionTimeout(5 * time.Second),
		framework.WithRetryPolicy(framework.RetryNTimes(20, 50*time.Millisecond)),
		framework.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))),
	}
	c, err := framework.New(connect, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New(%q): %v", connect, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.BlockUntilConnected(testCtx(t)); err != nil {
		t.Fatalf("BlockUntilConnected: %v", err)
	}
	return c
}

// newProxy puts a fault proxy in front of addr for the test.
func newProxy(t testing.TB, addr string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// expectStates reads the next states from ch and compares them with want.
func expectStates(t testing.TB, ch <-chan framework.ConnectionState, want ...framework.ConnectionState) {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for i, w := range want {
		select {
		case got, ok := <-ch:
			if !ok {
				t.Fatalf("state channel closed, want %v (#%d of %v)", w, i, want)
			}
			if got != w {
				t.Fatalf("state #%d = %v, want %v (sequence %v)", i, got, w, want)
			}
		case <-timer.C:
			t.Fatalf("timed out waiting for state %v (#%d of %v)", w, i, want)
		}
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// expireSession makes the server expire the session of c.
func expireSession(t testing.TB, addr string, c *framework.Client) {
	t.Helper()
	testtarget.ExpireSession(t, addr, c.Conn())
}

// target is a server under test (herd or Apache ZooKeeper).
type target = testtarget.Target

// targets lists the servers the suite runs against; each starts on demand.
// The herd cluster's clients spread over its three nodes.
var targets = testtarget.AllWithCluster

// ensure makes sure p exists (with parents) using c.
func ensure(t testing.TB, c *framework.Client, p string) {
	t.Helper()
	if err := c.EnsurePath(testCtx(t), p); err != nil {
		t.Fatal(err)
	}
}

var _ = zk.ErrNoNode
