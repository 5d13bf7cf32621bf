// Package recipetest is the test support shared by the recipe packages: one
// Apache ZooKeeper per test binary (Each) or one server per kind of target for
// a whole suite (Suite), a fresh in-process herd per test, quick clients,
// fault proxies, session expiry, polling without sleeps, unique paths per
// test so that tests sharing a server never meet, and the server's own view
// of watches (4lw wchp), with which tests check that each waiter watches one
// node only.
package recipetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/recipes/internal/contend"
)

// Wait bounds anything a test waits for.
const Wait = 30 * time.Second

// Tick is the default tick of the servers: sessions between 1 s and 10 s.
const Tick = 500 * time.Millisecond

// settings are what Main's options chose for the test binary.
var settings = struct {
	tick time.Duration
	herd []herdtest.Option
}{tick: Tick}

var sharedZK zkpeer.Shared

// Option adjusts the servers of a test binary; pass options to Main.
type Option func()

// WithTick sets the tick of every server the package's tests start
// (sessions between 2 and 20 ticks). Default Tick.
func WithTick(d time.Duration) Option { return func() { settings.tick = d } }

// WithHerd adds options to every in-process herd node Each starts.
func WithHerd(opts ...herdtest.Option) Option {
	return func() { settings.herd = append(settings.herd, opts...) }
}

// Main applies opts, runs the tests, stops the shared ZooKeeper, then checks
// for leaked goroutines. Call it from TestMain.
func Main(m *testing.M, opts ...Option) {
	for _, o := range opts {
		o()
	}
	sharedZK.Options = zkpeer.Options{TickTime: int(settings.tick / time.Millisecond), ExtendedTypes: true}
	code := m.Run()
	sharedZK.Stop()
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
	t.Run("herd", func(t *testing.T) { f(t, Target{Name: "herd", Addr: startHerd(t)}) })
	t.Run("zookeeper", func(t *testing.T) {
		f(t, Target{Name: "zookeeper", Addr: sharedZK.Addr(t)})
	})
}

// EachB is Each for benchmarks.
func EachB(b *testing.B, f func(b *testing.B, tg Target)) {
	b.Run("herd", func(b *testing.B) { f(b, Target{Name: "herd", Addr: startHerd(b)}) })
	b.Run("zookeeper", func(b *testing.B) {
		f(b, Target{Name: "zookeeper", Addr: sharedZK.Addr(b)})
	})
}

func startHerd(t testing.TB) string {
	opts := append([]herdtest.Option{herdtest.WithTickTime(settings.tick), herdtest.WithExtendedTypes()}, settings.herd...)
	return herdtest.Start(t, opts...).Addr
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

// Case is one behaviour test, run against every target.
type Case struct {
	Name string
	Run  func(t *testing.T, tg testtarget.Target)
}

// Suite runs every case against each target (herd, then Apache ZooKeeper),
// starting one server per target for all of them; cases isolate themselves
// by path (use t.Name()-based paths, see Path).
func Suite(t *testing.T, cases []Case) {
	for _, fac := range testtarget.All {
		t.Run(fac.Name, func(t *testing.T) {
			tg := fac.Start(t, Tick)
			for _, tc := range cases {
				t.Run(tc.Name, func(t *testing.T) { tc.Run(t, tg) })
			}
		})
	}
}

// Path is a path unique to the running test: "/" + its name with slashes
// turned into dashes, then elems.
func Path(t testing.TB, elems ...string) string {
	p := "/" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return framework.JoinPath(p, elems...)
}

// Children returns the children of p (nil when p does not exist).
func Children(t testing.TB, c *framework.Client, p string) []string {
	t.Helper()
	kids, err := c.SortedChildren(Ctx(t), p)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("children %s: %v", p, err)
	}
	return kids
}

// Closed reports whether ch is closed (without waiting).
func Closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Watchers returns, from the server's 4lw "wchp", the sessions watching each
// path under prefix: the server's own account of who watches what.
func Watchers(t testing.TB, addr, prefix string) map[string][]string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("wchp: %v", err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, "wchp"); err != nil {
		t.Fatalf("wchp: %v", err)
	}
	out := map[string][]string{}
	cur := ""
	sc := bufio.NewScanner(nc)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "\t"):
			if cur != "" {
				out[cur] = append(out[cur], strings.TrimSpace(line))
			}
		case strings.HasPrefix(line, prefix+"/") || line == prefix:
			cur = line
		default:
			cur = ""
		}
	}
	return out
}

// Chain checks, with the server's own account (wchp), that the contenders
// in dir form a chain of watches: in Curator's order for lockNames, each
// node is watched by the owner of the next node only, and the last by no
// one. It first waits until len(nodes)-1 nodes are watched.
func Chain(t testing.TB, c *framework.Client, addr, dir string, lockNames ...string) {
	t.Helper()
	kids := Children(t, c, dir)
	contend.Sort(kids, lockNames...)
	owner := map[string]string{}
	for _, k := range kids {
		st, err := c.Exists(Ctx(t), framework.JoinPath(dir, k))
		if err != nil || st == nil {
			t.Fatalf("exists %s/%s: %v", dir, k, err)
		}
		owner[k] = fmt.Sprintf("0x%x", st.EphemeralOwner)
	}
	Eventually(t, "every waiter watching", func() bool { return len(Watchers(t, addr, dir)) == len(kids)-1 })
	w := Watchers(t, addr, dir)
	for i := 0; i+1 < len(kids); i++ {
		p := framework.JoinPath(dir, kids[i])
		if got := w[p]; len(got) != 1 || got[0] != owner[kids[i+1]] {
			t.Fatalf("watchers of %s = %v, want only the next contender's session %s (all: %v)", p, got, owner[kids[i+1]], w)
		}
	}
}
