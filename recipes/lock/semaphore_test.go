package lock_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/lock"
)

// testSemaphoreLimit: many clients acquiring and releasing never hold more
// than maxLeases at once, and leave no nodes.
func testSemaphoreLimit(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "sem")
	const max, clients, rounds = 2, 5, 4
	var in, peak atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		s := lock.NewSemaphore(recipetest.Client(t, tg.Addr()), path, max)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				for range rounds {
					l, err := s.Acquire(ctx)
					if err != nil {
						return err
					}
					n := in.Add(1)
					if n > max {
						return fmt.Errorf("%d leases held at once", n)
					}
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					in.Add(-1)
					if err := l.Release(ctx); err != nil {
						return err
					}
					if err := l.Release(ctx); !errors.Is(err, lock.ErrNotHeld) {
						return fmt.Errorf("second Release = %v", err)
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	admin := recipetest.Client(t, tg.Addr())
	for _, d := range []string{"leases", "locks"} {
		if kids := recipetest.Children(t, admin, framework.JoinPath(path, d)); len(kids) != 0 {
			t.Fatalf("%s left: %v", d, kids)
		}
	}
	t.Logf("peak %d of %d leases", peak.Load(), max)
}

// testSemaphoreAcquireN: an AcquireN waits until it can hold all it asked for
// and keeps the gate meanwhile, so a later single Acquire waits behind it.
func testSemaphoreAcquireN(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "sem")
	admin := recipetest.Client(t, tg.Addr())
	cc := recipetest.Client(t, tg.Addr())
	newSem := func() *lock.Semaphore { return lock.NewSemaphore(recipetest.Client(t, tg.Addr()), path, 3) }
	a, b, c := newSem(), newSem(), lock.NewSemaphore(cc, path, 3)
	var bWakes, cWakes atomic.Int32
	lock.SetLeaseWakeHook(b, func() { bWakes.Add(1) })
	lock.SetLeaseWakeHook(c, func() { cWakes.Add(1) })
	for _, n := range []int{0, 4} {
		if _, err := a.AcquireN(ctx, n); !errors.Is(err, lock.ErrInvalidArgument) {
			t.Fatalf("AcquireN(%d) of 3 = %v, want ErrInvalidArgument", n, err)
		}
	}
	la, err := a.AcquireN(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		ls  []*lock.Lease
		err error
	}
	bres, cres := make(chan result, 1), make(chan result, 1)
	go func() { ls, err := b.AcquireN(ctx, 2); bres <- result{ls, err} }()
	leases := framework.JoinPath(path, "leases")
	recipetest.Eventually(t, "b waiting for a lease", func() bool { return len(recipetest.Children(t, admin, leases)) == 4 })
	go func() { l, err := c.Acquire(ctx); cres <- result{[]*lock.Lease{l}, err} }()
	recipetest.Eventually(t, "c queued at the gate", func() bool {
		return len(recipetest.Children(t, admin, framework.JoinPath(path, "locks"))) == 2
	})
	// No herd: c waits on the gate (watching b's gate node only) and so is
	// not woken by lease changes; b, the gate holder, wakes once.
	recipetest.Chain(t, admin, tg.Addr(), framework.JoinPath(path, "locks"), "lock-")
	if err := la[0].Release(ctx); err != nil {
		t.Fatal(err)
	}
	rb := <-bres
	if nb, nc := bWakes.Load(), cWakes.Load(); nb != 1 || nc != 0 {
		t.Fatalf("lease wake-ups: b %d, c %d; want 1 and 0", nb, nc)
	}
	if rb.err != nil || len(rb.ls) != 2 {
		t.Fatalf("b: %v %v", rb.ls, rb.err)
	}
	// a's released lease is gone, a's other and b's two are there. b let go
	// of the gate before AcquireN returned, so c may already have joined
	// with a lease node it waits on (Participants lists held and wanted
	// leases): any other node must be c's.
	parts, err := a.Participants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held := []string{la[1].Node(), rb.ls[0].Node(), rb.ls[1].Node()}
	for _, h := range held {
		if !slices.Contains(parts, h) {
			t.Fatalf("participants %v lack held lease %s", parts, h)
		}
	}
	for _, p := range parts {
		if slices.Contains(held, p) {
			continue
		}
		st, err := admin.Exists(ctx, p)
		if err != nil || st == nil || st.EphemeralOwner != cc.SessionID() {
			t.Fatalf("participants %v: %s is neither held (%v) nor c's waiting lease (%v, %v); a released %s", parts, p, held, st, err, la[0].Node())
		}
	}
	select {
	case r := <-cres:
		t.Fatalf("c acquired a fourth lease (%v)", r.err)
	default:
	}
	if err := la[1].Release(ctx); err != nil {
		t.Fatal(err)
	}
	rc := <-cres
	if rc.err != nil {
		t.Fatal(rc.err)
	}
	for _, l := range append(rb.ls, rc.ls...) {
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// testSemaphoreCancelled: a waiter whose ctx ends leaves neither a lease
// node nor a gate node.
func testSemaphoreCancelled(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "sem")
	admin := recipetest.Client(t, tg.Addr())
	holder := lock.NewSemaphore(admin, path, 1)
	l, err := holder.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := lock.NewSemaphore(recipetest.Client(t, tg.Addr()), path, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan error, 1)
	go func() { _, err := w.Acquire(wctx); res <- err }()
	leases := framework.JoinPath(path, "leases")
	recipetest.Eventually(t, "waiter's lease node", func() bool { return len(recipetest.Children(t, admin, leases)) == 2 })
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire = %v", err)
	}
	if kids := recipetest.Children(t, admin, leases); len(kids) != 1 || framework.JoinPath(leases, kids[0]) != l.Node() {
		t.Fatalf("leases %v, want only %s", kids, l.Node())
	}
	if kids := recipetest.Children(t, admin, framework.JoinPath(path, "locks")); len(kids) != 0 {
		t.Fatalf("gate nodes left: %v", kids)
	}
	lost := l.Lost()
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if !recipetest.Closed(lost) {
		t.Fatal("Lost open after Release")
	}
}
