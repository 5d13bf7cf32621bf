package lock_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/contend"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/lock"
)

// testRWSharing: readers hold together; a queued writer keeps later readers
// out (write-preferring) and gets the lock when the readers leave.
func testRWSharing(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "rw")
	admin := recipetest.Client(t, tg.Addr())
	newRW := func() *lock.RWMutex { return lock.NewRWMutex(recipetest.Client(t, tg.Addr()), path) }
	r1, r2, w, r3 := newRW(), newRW(), newRW(), newRW()
	for _, r := range []*lock.RWMutex{r1, r2} {
		if err := r.ReadLock().Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("write TryLock under readers = %v, want ErrLocked", err)
	}
	res := make(chan error, 1)
	go func() { res <- w.WriteLock().Lock(ctx) }()
	recipetest.Eventually(t, "writer queued", func() bool { return len(recipetest.Children(t, admin, path)) == 3 })
	if err := r3.ReadLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("read TryLock behind a queued writer = %v, want ErrLocked", err)
	}
	parts, err := r1.ReadLock().Participants(ctx)
	if err != nil || len(parts) != 2 || !strings.Contains(parts[0], "__READ__") {
		t.Fatalf("read participants = %v, %v", parts, err)
	}
	for _, r := range []*lock.RWMutex{r1, r2} {
		if err := r.ReadLock().Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if err := r3.ReadLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("read TryLock under a writer = %v, want ErrLocked", err)
	}
	if err := w.WriteLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r3.ReadLock().TryLock(ctx); err != nil {
		t.Fatalf("read TryLock of a free lock: %v", err)
	}
	if err := r3.ReadLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// testRWContention: readers and writers on many clients; a writer is always
// alone and readers never overlap a writer.
func testRWContention(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "rw")
	const clients, rounds = 6, 5
	var readers, writers, maxReaders atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		rw := lock.NewRWMutex(recipetest.Client(t, tg.Addr()), path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				for r := range rounds {
					if (i+r)%3 == 0 {
						if err := rw.WriteLock().Lock(ctx); err != nil {
							return err
						}
						if n := writers.Add(1); n != 1 || readers.Load() != 0 {
							return fmt.Errorf("writer with %d writers and %d readers", n, readers.Load())
						}
						writers.Add(-1)
						if err := rw.WriteLock().Unlock(ctx); err != nil {
							return err
						}
						continue
					}
					if err := rw.ReadLock().Lock(ctx); err != nil {
						return err
					}
					n := readers.Add(1)
					for m := maxReaders.Load(); n > m && !maxReaders.CompareAndSwap(m, n); m = maxReaders.Load() {
					}
					if writers.Load() != 0 {
						return errors.New("reader alongside a writer")
					}
					readers.Add(-1)
					if err := rw.ReadLock().Unlock(ctx); err != nil {
						return err
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
	t.Logf("at most %d readers at once", maxReaders.Load())
}

// testRWDowngrade: the write holder takes the read lock and releases the
// write lock. A writer that queued meanwhile must not get in while the read
// lock is held; it does when the read lock goes.
func testRWDowngrade(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "rw")
	admin := recipetest.Client(t, tg.Addr())
	rw := lock.NewRWMutex(recipetest.Client(t, tg.Addr()), path)
	other := lock.NewRWMutex(recipetest.Client(t, tg.Addr()), path)
	third := lock.NewRWMutex(recipetest.Client(t, tg.Addr()), path)
	if err := rw.WriteLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { res <- other.WriteLock().Lock(ctx) }()
	recipetest.Eventually(t, "writer queued", func() bool { return len(recipetest.Children(t, admin, path)) == 2 })
	if err := rw.ReadLock().Lock(ctx); err != nil {
		t.Fatalf("read lock of the write holder: %v", err)
	}
	if err := rw.WriteLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if !rw.ReadLock().Held() {
		t.Fatal("downgraded read lock not held")
	}
	// The queued writer is still behind the read lock; so is a newcomer.
	if err := third.WriteLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("write TryLock under the downgraded read lock = %v", err)
	}
	select {
	case err := <-res:
		t.Fatalf("queued writer got in (%v) under the downgraded read lock", err)
	default:
	}
	if kids := recipetest.Children(t, admin, path); len(kids) != 2 {
		t.Fatalf("nodes %v, want the read node and the queued writer", kids)
	}
	if err := rw.ReadLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if err := other.WriteLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// testRWWatches: with a writer holding and a reader, a writer and two more
// readers queued, each reader watches the last writer before it and the
// writer its immediate predecessor, so the first writer's release wakes
// only the reader between the writers.
func testRWWatches(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "rw")
	admin := recipetest.Client(t, tg.Addr())
	type side struct {
		rw    *lock.RWMutex
		write bool
		sid   string
	}
	var sides []side
	for _, write := range []bool{true, false, true, false, false} {
		c := recipetest.Client(t, tg.Addr())
		sides = append(sides, side{lock.NewRWMutex(c, path), write, fmt.Sprintf("0x%x", c.SessionID())})
	}
	m := func(s side) *lock.Mutex {
		if s.write {
			return s.rw.WriteLock()
		}
		return s.rw.ReadLock()
	}
	if err := m(sides[0]).Lock(ctx); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, len(sides))
	for i, s := range sides[1:] {
		go func() { res <- m(s).Lock(ctx) }()
		recipetest.Eventually(t, "queued", func() bool { return len(recipetest.Children(t, admin, path)) == i+2 })
	}
	kids := recipetest.Children(t, admin, path)
	contend.Sort(kids, "__READ__", "__WRIT__")
	node := func(i int) string { return framework.JoinPath(path, kids[i]) }
	want := map[string][]string{
		node(0): {sides[1].sid},               // W1 ← R1 only
		node(1): {sides[2].sid},               // R1 ← W2
		node(2): {sides[3].sid, sides[4].sid}, // W2 ← R2, R3
	}
	// Every waiter has queued its node, but may not have set its watch yet.
	recipetest.Eventually(t, "every waiter watching", func() bool {
		n := 0
		for _, ws := range recipetest.Watchers(t, tg.Addr(), path) {
			n += len(ws)
		}
		return n == len(sides)-1
	})
	got := recipetest.Watchers(t, tg.Addr(), path)
	for p, w := range want {
		g := append([]string(nil), got[p]...)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Fatalf("watchers of %s = %v, want %v (all %v)", p, got[p], w, got)
		}
	}
	// Release in turn: W1, then R1 (W2 gets it), then W2 (R2 and R3 share it).
	if err := m(sides[0]).Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil || !m(sides[1]).Held() {
		t.Fatalf("R1 after W1: %v", err)
	}
	if err := m(sides[1]).Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil || !m(sides[2]).Held() {
		t.Fatalf("W2 after R1: %v", err)
	}
	if err := m(sides[2]).Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-res; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sides[3:] {
		if err := m(s).Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
