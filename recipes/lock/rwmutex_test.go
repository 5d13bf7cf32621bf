package lock_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herd-io/herd/internal/testtarget"
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
