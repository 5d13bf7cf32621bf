//go:build interop

package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/recipes"
	"github.com/herd-io/herd/recipes/election"
	"github.com/herd-io/herd/recipes/lock"
)

// TestCuratorLockInterop puts Curator 5.4's InterProcessMutex, LeaderLatch
// and LeaderSelector (peers/CuratorLockPeer.java) and herd's Mutex, Latch and
// Selector on the same paths, against herd and against Apache ZooKeeper:
// they exclude each other both ways and agree on one leader.
func TestCuratorLockInterop(t *testing.T) {
	zkpeer.Require(t, append([]string{"/usr/bin/javac", "/usr/bin/java"}, curatorJars...)...)
	cp := strings.Join(curatorJars, ":")
	classes := t.TempDir()
	javac := []string{"-d", classes, "-cp", cp, "-nowarn"}
	for _, f := range jvmQuick {
		javac = append(javac, "-J"+f)
	}
	javac = append(javac, filepath.Join(peersDir(t), "CuratorLockPeer.java"))
	if out, err := exec.CommandContext(driverContext(t), "javac", javac...).CombinedOutput(); err != nil {
		t.Fatalf("javac CuratorLockPeer.java: %v\n%s", err, out)
	}
	for _, tg := range []Target{herdTarget(t, TargetOptions{}), zookeeperTarget(t, TargetOptions{})} {
		t.Run(tg.Name, func(t *testing.T) {
			peer := startLockPeer(t, classes+":"+cp, tg.Addr)
			t.Run("MutexCuratorFirst", func(t *testing.T) { mutexCuratorFirst(t, peer, tg.Addr) })
			t.Run("MutexHerdFirst", func(t *testing.T) { mutexHerdFirst(t, peer, tg.Addr) })
			t.Run("MutexSharedCounter", func(t *testing.T) { mutexSharedCounter(t, peer, tg.Addr) })
			t.Run("LeaderLatch", func(t *testing.T) { latchAgree(t, peer, tg.Addr) })
			t.Run("LeaderSelector", func(t *testing.T) { selectorAgree(t, peer, tg.Addr) })
		})
	}
}

// mutexCuratorFirst: Curator holds; herd's TryLock fails and its Lock waits
// until Curator releases.
func mutexCuratorFirst(t *testing.T, peer *lockPeer, addr string) {
	ctx := interopCtx(t)
	path := "/interop/mutex-curator-first"
	c := interopClient(t, addr)
	peer.ok("mutex-acquire " + path)
	m := recipes.NewLock(c, path)
	if err := m.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("herd TryLock under Curator's hold = %v, want ErrLocked", err)
	}
	res := make(chan error, 1)
	go func() { res <- m.Lock(ctx) }()
	waitChildren(t, c, path, 2)
	select {
	case err := <-res:
		t.Fatalf("herd Lock returned (%v) while Curator holds", err)
	default:
	}
	if got := peer.ok("mutex-held"); got != "true" {
		t.Fatalf("Curator holds = %s", got)
	}
	peer.ok("mutex-release")
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// mutexHerdFirst: herd holds; Curator's acquire waits until herd unlocks.
func mutexHerdFirst(t *testing.T, peer *lockPeer, addr string) {
	ctx := interopCtx(t)
	path := "/interop/mutex-herd-first"
	c := interopClient(t, addr)
	m := recipes.NewLock(c, path)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	peer.ok("mutex-acquire-async " + path)
	waitChildren(t, c, path, 2)
	if got := peer.ok("mutex-held"); got != "false" {
		t.Fatalf("Curator holds = %s while herd holds", got)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	peer.event("mutex-acquired")
	if err := m.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("herd TryLock under Curator's hold = %v", err)
	}
	peer.ok("mutex-release")
}

// mutexSharedCounter: Curator and two herd clients increment one counter
// with unversioned read-modify-writes under the lock; it comes out exact.
func mutexSharedCounter(t *testing.T, peer *lockPeer, addr string) {
	ctx := interopCtx(t)
	path, counter := "/interop/mutex-counter", "/interop/counter"
	c := interopClient(t, addr)
	if _, err := c.Create(ctx, counter, []byte("0"), framework.WithParents()); err != nil {
		t.Fatal(err)
	}
	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		gc := interopClient(t, addr)
		m := recipes.NewLock(gc, path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				for range rounds {
					if err := m.Lock(ctx); err != nil {
						return err
					}
					data, _, err := gc.Get(ctx, counter)
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(data))
					if _, err := gc.Set(ctx, counter, []byte(strconv.Itoa(n+1))); err != nil {
						return err
					}
					if err := m.Unlock(ctx); err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	peer.ok(fmt.Sprintf("mutex-count %s %s %d", path, counter, rounds))
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _, err := c.Get(ctx, counter)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != strconv.Itoa(3*rounds) {
		t.Fatalf("counter = %s, want %d", data, 3*rounds)
	}
}

// latchAgree: a Curator LeaderLatch and a herd Latch elect one leader in
// node order, both ways round, and both report the same leader id.
func latchAgree(t *testing.T, peer *lockPeer, addr string) {
	ctx := interopCtx(t)
	path := "/interop/latch"
	c := interopClient(t, addr)
	peer.ok("latch-start " + path + " curator")
	peer.ok("latch-await")
	l := recipes.NewLeaderLatch(c, path, "herd")
	defer l.Close(ctx)
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitChildren(t, c, path, 2)
	if l.HasLeadership() {
		t.Fatal("herd latch leads behind Curator's")
	}
	if id, err := l.Leader(ctx); err != nil || id != "curator" {
		t.Fatalf("herd sees leader %q, %v", id, err)
	}
	if got := peer.ok("latch-leader"); got != "curator" {
		t.Fatalf("Curator sees leader %q", got)
	}
	ps, err := l.Participants(ctx)
	if err != nil || len(ps) != 2 || ps[0] != (election.Participant{ID: "curator", Leader: true}) || ps[1].ID != "herd" {
		t.Fatalf("participants %+v, %v", ps, err)
	}
	peer.ok("latch-close")
	if err := l.Await(ctx); err != nil {
		t.Fatal(err)
	}
	// Now herd leads and a new Curator latch queues behind it.
	peer.ok("latch-start " + path + " curator2")
	waitChildren(t, c, path, 2)
	if got := peer.ok("latch-has"); got != "false" {
		t.Fatalf("Curator latch leads behind herd's (%s)", got)
	}
	if got := peer.ok("latch-leader"); got != "herd" {
		t.Fatalf("Curator sees leader %q, want herd", got)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	peer.ok("latch-await")
	if id, err := l.Leader(ctx); err != nil || id != "curator2" {
		t.Fatalf("herd sees leader %q, %v", id, err)
	}
	peer.ok("latch-close")
}

// selectorAgree: a Curator LeaderSelector and a herd Selector take turns:
// herd's lead does not start while Curator's takeLeadership runs, and the
// other way round.
func selectorAgree(t *testing.T, peer *lockPeer, addr string) {
	ctx := interopCtx(t)
	path := "/interop/selector"
	c := interopClient(t, addr)
	peer.ok("selector-start " + path + " curator")
	peer.event("lead-start")
	s := recipes.NewLeaderSelector(c, path, "herd")
	started, release := make(chan struct{}), make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- s.Run(ctx, func(ctx context.Context) error {
			close(started)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	waitChildren(t, c, path, 2)
	select {
	case <-started:
		t.Fatal("herd leads while Curator's takeLeadership runs")
	default:
	}
	if id, err := s.Leader(ctx); err != nil || id != "curator" {
		t.Fatalf("herd sees leader %q, %v", id, err)
	}
	if got := peer.ok("selector-leader"); got != "curator" {
		t.Fatalf("Curator sees leader %q", got)
	}
	peer.ok("selector-yield")
	peer.event("lead-end")
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("herd never led after Curator yielded")
	}
	peer.ok("selector-close")
	// Herd leads; a new Curator selector waits for it.
	peer.ok("selector-start " + path + " curator2")
	waitChildren(t, c, path, 2)
	if got := peer.ok("selector-has"); got != "false" {
		t.Fatalf("Curator leads while herd does (%s)", got)
	}
	if got := peer.ok("selector-leader"); got != "herd" {
		t.Fatalf("Curator sees leader %q, want herd", got)
	}
	close(release)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	peer.event("lead-start")
	peer.ok("selector-yield")
	peer.event("lead-end")
	peer.ok("selector-close")
}

// lockPeer is a running CuratorLockPeer: one command at a time, replies in
// order, events on their own channel.
type lockPeer struct {
	t       *testing.T
	stdin   io.WriteCloser
	replies chan string
	events  chan string
}

func startLockPeer(t *testing.T, classpath, addr string) *lockPeer {
	args := append(append([]string{}, jvmQuick...), "-cp", classpath, "CuratorLockPeer", addr)
	cmd := exec.CommandContext(driverContext(t), "java", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &lockPeer{t: t, stdin: stdin, replies: make(chan string, 16), events: make(chan string, 16)}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if ev, ok := strings.CutPrefix(line, "event "); ok {
				p.events <- ev
			} else {
				p.replies <- line
			}
		}
	}()
	t.Cleanup(func() {
		_, _ = io.WriteString(stdin, "quit\n")
		_ = stdin.Close()
		<-read
		if err := cmd.Wait(); err != nil || t.Failed() {
			t.Logf("CuratorLockPeer exited: %v\nstderr:\n%s", err, tail(stderr.String(), 4000))
		}
	})
	if r := p.reply(); r != "ok ready" {
		t.Fatalf("CuratorLockPeer did not start: %q\n%s", r, tail(stderr.String(), 4000))
	}
	return p
}

func (p *lockPeer) reply() string {
	p.t.Helper()
	select {
	case r := <-p.replies:
		return r
	case <-time.After(driverTimeout):
		p.t.Fatal("CuratorLockPeer did not answer")
		return ""
	}
}

// ok sends a command and returns the value of its "ok" reply.
func (p *lockPeer) ok(cmd string) string {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		p.t.Fatalf("%s: %v", cmd, err)
	}
	r := p.reply()
	v, ok := strings.CutPrefix(r, "ok")
	if !ok {
		p.t.Fatalf("Curator %s: %s", cmd, r)
	}
	return strings.TrimSpace(v)
}

// event waits for the peer's next event, which must be want.
func (p *lockPeer) event(want string) {
	p.t.Helper()
	select {
	case ev := <-p.events:
		if ev != want {
			p.t.Fatalf("Curator event %q, want %q", ev, want)
		}
	case <-time.After(driverTimeout):
		p.t.Fatalf("no Curator event %q", want)
	}
}

func interopCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), driverTimeout)
	t.Cleanup(cancel)
	return ctx
}

func interopClient(t *testing.T, addr string) *framework.Client {
	t.Helper()
	c, err := framework.New(addr, framework.WithSessionTimeout(10*time.Second),
		framework.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.BlockUntilConnected(interopCtx(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitChildren polls until path has n children.
func waitChildren(t *testing.T, c *framework.Client, path string, n int) {
	t.Helper()
	ctx := interopCtx(t)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		kids, _, err := c.Children(ctx, path)
		if err == nil && len(kids) == n {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s never had %d children (last %v, %v)", path, n, kids, err)
		}
	}
}
