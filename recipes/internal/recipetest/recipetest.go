// Package recipetest is the test support shared by the recipe packages
// (cache, counter, group, node, discovery): one Apache ZooKeeper per test
// binary, a fresh in-process herd per test, quick clients, fault proxies,
// session expiry, and a unique root path per test so that tests sharing a
// server never meet.
package recipetest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/internal/zkpeer"
)

// Wait bounds anything a test waits for.
const Wait = 30 * time.Second

// Tick is the tick of every server: sessions between 1 s and 10 s.
const Tick = 500 * time.Millisecond

var zk = zkpeer.Shared{Options: zkpeer.Options{TickTime: int(Tick / time.Millisecond), ExtendedTypes: true}}

// Main runs the tests, stops the shared ZooKeeper, then checks for leaked
// goroutines. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	zk.Stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Target is a server under test.
type Target struct {
	// Name is "herd" or "zookeeper".
	Name string
	// Addr is the client address.
	Addr string
}

// Each runs f against a fresh herd node and against the binary's shared
// Apache ZooKeeper (failing in CI, skipped elsewhere, when not installed).
func Each(t *testing.T, f func(t *testing.T, tg Target)) {
	t.Run("herd", func(t *testing.T) {
		s := herdtest.Start(t, herdtest.WithTickTime(Tick), herdtest.WithExtendedTypes())
		f(t, Target{Name: "herd", Addr: s.Addr})
	})
	t.Run("zookeeper", func(t *testing.T) {
		f(t, Target{Name: "zookeeper", Addr: zk.Addr(t)})
	})
}

// Ctx is a context that ends with the test or after Wait.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	t.Cleanup(cancel)
	return ctx
}

// Client connects to addr, waits for the session and closes the client when
// the test ends. Retries are quick so that failures show fast.
func Client(t testing.TB, addr string, opts ...framework.Option) *framework.Client {
	t.Helper()
	base := []framework.Option{
		framework.WithSessionTimeout(10 * time.Second),
		framework.WithConnectionTimeout(5 * time.Second),
		framework.WithRetryPolicy(framework.RetryNTimes(50, 50*time.Millisecond)),
		framework.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))),
	}
	c, err := framework.New(addr, append(base, opts...)...)
	if err != nil {
		t.Fatalf("framework.New(%q): %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.BlockUntilConnected(Ctx(t)); err != nil {
		t.Fatalf("BlockUntilConnected: %v", err)
	}
	return c
}

// Proxy puts a fault proxy in front of addr for the test.
func Proxy(t testing.TB, addr string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Expire makes the server at addr expire c's current session.
func Expire(t testing.TB, addr string, c *framework.Client) {
	t.Helper()
	testtarget.ExpireSession(t, addr, c.Conn())
}

var seq atomic.Int64

// Root returns a path no other test uses, below /recipes.
func Root(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf("/recipes/%s-%d", name, seq.Add(1))
}

// Eventually polls cond until it holds, failing t after Wait.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// States returns c's state changes for the test.
func States(t testing.TB, c *framework.Client) <-chan framework.ConnectionState {
	return c.StateChanges(Ctx(t))
}

// Expect reads the next states from ch and compares them with want.
func Expect(t testing.TB, ch <-chan framework.ConnectionState, want ...framework.ConnectionState) {
	t.Helper()
	timer := time.NewTimer(Wait)
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

// SkipReconnectRace skips t under the race detector: go-zookeeper/zk v1.0.4
// races on reconnect when it holds watches (zkpeer.SkipGoZKReconnectRace).
// The non-race stage of .ci/run still runs t.
func SkipReconnectRace(t testing.TB) {
	t.Helper()
	zkpeer.SkipGoZKReconnectRace(t, raceEnabled)
}
