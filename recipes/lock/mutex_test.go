package lock_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/lock"
)

// testMutualExclusion: clients (two goroutines sharing each Mutex value) add
// to a counter with an unversioned read-modify-write under the lock. The
// counter comes out exact, no two bodies overlap, and the tokens of
// successive holds strictly increase.
func testMutualExclusion(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path, counter := recipetest.Path(t, "lock"), recipetest.Path(t, "counter")
	admin := recipetest.Client(t, tg.Addr())
	if _, err := admin.Create(ctx, counter, []byte("0"), framework.WithParents()); err != nil {
		t.Fatal(err)
	}
	const clients, perClient, rounds = 4, 2, 8
	var (
		mu     sync.Mutex
		tokens []int64
		inside atomic.Int32
		wg     sync.WaitGroup
	)
	errs := make(chan error, clients*perClient)
	for range clients {
		c := recipetest.Client(t, tg.Addr())
		m := lock.NewMutex(c, path)
		for range perClient {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- func() error {
					for range rounds {
						if err := m.Lock(ctx); err != nil {
							return err
						}
						if n := inside.Add(1); n != 1 {
							return fmt.Errorf("%d holders at once", n)
						}
						data, _, err := c.Get(ctx, counter)
						if err != nil {
							return err
						}
						n, _ := strconv.Atoi(string(data))
						if _, err := c.Set(ctx, counter, []byte(strconv.Itoa(n+1))); err != nil {
							return err
						}
						mu.Lock()
						tokens = append(tokens, m.Token())
						mu.Unlock()
						inside.Add(-1)
						if err := m.Unlock(ctx); err != nil {
							return err
						}
					}
					return nil
				}()
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _, err := admin.Get(ctx, counter)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(clients * perClient * rounds); string(data) != want {
		t.Fatalf("counter = %s, want %s", data, want)
	}
	for i := 1; i < len(tokens); i++ {
		if tokens[i] <= tokens[i-1] {
			t.Fatalf("token %d = %d after %d: not increasing (%v)", i, tokens[i], tokens[i-1], tokens)
		}
	}
	if kids := recipetest.Children(t, admin, path); len(kids) != 0 {
		t.Fatalf("nodes left: %v", kids)
	}
}

func testTryLock(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	a := lock.NewMutex(recipetest.Client(t, tg.Addr()), path)
	bc := recipetest.Client(t, tg.Addr())
	b := lock.NewMutex(bc, path)
	if err := a.TryLock(ctx); err != nil {
		t.Fatalf("TryLock of a free lock: %v", err)
	}
	if !a.Held() || a.Token() == 0 || a.Node() == "" || recipetest.Closed(a.Lost()) {
		t.Fatalf("after TryLock: held %v token %d node %q lost %v", a.Held(), a.Token(), a.Node(), recipetest.Closed(a.Lost()))
	}
	if err := b.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock of a lock held elsewhere = %v, want ErrLocked", err)
	}
	if kids := recipetest.Children(t, bc, path); len(kids) != 1 {
		t.Fatalf("failed TryLock left a node: %v", kids)
	}
	// Another goroutine on the held value: ErrLocked too, as sync.Mutex.TryLock.
	res := make(chan error)
	go func() { res <- a.TryLock(ctx) }()
	if err := <-res; !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock on the held value = %v, want ErrLocked", err)
	}
	if err := b.Unlock(ctx); !errors.Is(err, lock.ErrNotHeld) {
		t.Fatalf("Unlock without a hold = %v, want ErrNotHeld", err)
	}
	parts, err := b.Participants(ctx)
	if err != nil || len(parts) != 1 || parts[0] != a.Node() {
		t.Fatalf("Participants = %v, %v; want [%s]", parts, err, a.Node())
	}
	first := a.Token()
	lost := a.Lost()
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if !recipetest.Closed(lost) || a.Held() || a.Token() != 0 {
		t.Fatal("Unlock did not end the hold")
	}
	if err := b.TryLock(ctx); err != nil {
		t.Fatalf("TryLock after release: %v", err)
	}
	if b.Token() <= first {
		t.Fatalf("token %d after %d", b.Token(), first)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// testSharedValue: a second goroutine's Lock on a held value waits for the
// Unlock and then makes a hold of its own.
func testSharedValue(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	c := recipetest.Client(t, tg.Addr())
	m := lock.NewMutex(c, path)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	first := m.Token()
	res := make(chan error, 1)
	go func() { res <- m.Lock(ctx) }()
	select {
	case err := <-res:
		t.Fatalf("second Lock on a held value returned (%v) before Unlock", err)
	default:
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if !m.Held() || m.Token() <= first {
		t.Fatalf("second hold: held %v token %d (first %d)", m.Held(), m.Token(), first)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func testReentrant(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	c := recipetest.Client(t, tg.Addr())
	m := lock.NewMutex(c, path, lock.Reentrant())
	for range 2 {
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.TryLock(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if kids := recipetest.Children(t, c, path); !m.Held() || len(kids) != 1 {
		t.Fatalf("after 3 holds and 2 unlocks: held %v, nodes %v", m.Held(), kids)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if kids := recipetest.Children(t, c, path); m.Held() || len(kids) != 0 {
		t.Fatalf("after the last unlock: held %v, nodes %v", m.Held(), kids)
	}
	if err := m.Unlock(ctx); !errors.Is(err, lock.ErrNotHeld) {
		t.Fatalf("extra Unlock = %v", err)
	}
}

// testCancelledWaiters: waiters whose ctx ends return its error and leave no
// node, so the next locker after the holder is not blocked by them.
func testCancelledWaiters(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	admin := recipetest.Client(t, tg.Addr())
	holder := lock.NewMutex(admin, path)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	const waiters = 5
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan error, waiters)
	for range waiters {
		m := lock.NewMutex(recipetest.Client(t, tg.Addr()), path)
		go func() { res <- m.Lock(wctx) }()
	}
	recipetest.Eventually(t, "every waiter queued", func() bool {
		return len(recipetest.Children(t, admin, path)) == 1+waiters
	})
	cancel()
	for range waiters {
		if err := <-res; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
		}
	}
	if kids := recipetest.Children(t, admin, path); len(kids) != 1 {
		t.Fatalf("nodes after the waiters gave up: %v (want the holder's only)", kids)
	}
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	next := lock.NewMutex(recipetest.Client(t, tg.Addr()), path)
	if err := next.TryLock(ctx); err != nil {
		t.Fatalf("TryLock after the holder released: %v", err)
	}
	if err := next.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// testNoHerdEffect: with a holder and five waiters, the server reports each
// waiter watching exactly its predecessor, and every release wakes exactly
// one waiter.
func testNoHerdEffect(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	admin := recipetest.Client(t, tg.Addr())
	holder := lock.NewMutex(admin, path)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	const waiters = 5
	var wakes atomic.Int32
	acquired := make(chan int, waiters)
	errs := make(chan error, waiters)
	release := make([]chan struct{}, waiters)
	sessions := map[string]int64{} // node -> session, filled as nodes appear
	for i := range waiters {
		release[i] = make(chan struct{})
		c := recipetest.Client(t, tg.Addr())
		m := lock.NewMutex(c, path)
		lock.SetWakeHook(m, func() { wakes.Add(1) })
		go func() {
			if err := m.Lock(ctx); err != nil {
				errs <- err
				return
			}
			acquired <- i
			<-release[i]
			errs <- m.Unlock(ctx)
		}()
		// Queue the waiters one at a time so their order is known.
		recipetest.Eventually(t, "waiter queued", func() bool {
			return len(recipetest.Children(t, admin, path)) == i+2
		})
	}
	kids, err := holder.Participants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		st, err := admin.Exists(ctx, k)
		if err != nil || st == nil {
			t.Fatalf("exists %s: %v", k, err)
		}
		sessions[k] = st.EphemeralOwner
	}
	recipetest.Eventually(t, "every waiter watching", func() bool {
		return len(recipetest.Watchers(t, tg.Addr(), path)) == waiters
	})
	w := recipetest.Watchers(t, tg.Addr(), path)
	for i := range waiters {
		pred, next := kids[i], kids[i+1]
		want := fmt.Sprintf("0x%x", sessions[next])
		if got := w[pred]; len(got) != 1 || got[0] != want {
			t.Fatalf("watchers of %s = %v, want only the next waiter's session %s (all: %v)", pred, got, want, w)
		}
	}
	order := []int{}
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= waiters; k++ {
		select {
		case i := <-acquired:
			order = append(order, i)
			if n := wakes.Load(); n != int32(k) {
				t.Fatalf("after %d releases: %d wake-ups", k, n)
			}
			close(release[i])
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		case err := <-errs:
			t.Fatal(err)
		}
	}
	if !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("acquired in order %v, want queue order", order)
	}
}

// testPartitionedHolder: the holder's network goes silent. Its client turns
// SUSPENDED before the server can expire the session, so its Lost closes
// before the waiter (on a healthy connection) is given the lock.
func testPartitionedHolder(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	px := recipetest.Proxy(t, tg.Addr())
	a := lock.NewMutex(recipetest.Client(t, px.Addr(), framework.WithSessionTimeout(3*time.Second)), path)
	bc := recipetest.Client(t, tg.Addr())
	b := lock.NewMutex(bc, path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { res <- b.Lock(ctx) }()
	recipetest.Eventually(t, "b queued", func() bool { return len(recipetest.Children(t, bc, path)) == 2 })
	px.Blackhole(true)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if !recipetest.Closed(a.Lost()) || a.Held() {
		t.Fatal("b holds the lock while a still trusts its hold")
	}
	px.Blackhole(false)
	if err := a.Unlock(ctx); err != nil {
		t.Fatalf("Unlock of a lost hold: %v", err)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Lock(ctx); err != nil {
		t.Fatalf("Lock on the next session: %v", err)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// testExpiredHolder: the server expires the holder's session. Its Lost
// closes, the waiter gets the lock, and the old holder can lock again on
// its next session, after the waiter.
func testExpiredHolder(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	ac := recipetest.Client(t, tg.Addr())
	a := lock.NewMutex(ac, path)
	b := lock.NewMutex(recipetest.Client(t, tg.Addr()), path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	first := a.Token()
	res := make(chan error, 1)
	go func() { res <- b.Lock(ctx) }()
	recipetest.Eventually(t, "b queued", func() bool { return len(recipetest.Children(t, ac, path)) == 2 })
	testtarget.ExpireSession(t, tg.Addr(), ac.Conn())
	select {
	case <-a.Lost():
	case <-ctx.Done():
		t.Fatal("Lost not closed after the session expired")
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if b.Token() <= first {
		t.Fatalf("b's token %d not above a's %d", b.Token(), first)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatalf("Unlock of an expired hold: %v", err)
	}
	again := make(chan error, 1)
	go func() { again <- a.Lock(ctx) }()
	recipetest.Eventually(t, "a queued again", func() bool { return len(recipetest.Children(t, ac, path)) == 2 })
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-again; err != nil {
		t.Fatal(err)
	}
	if a.Token() <= b.Token() {
		t.Fatalf("a's new token %d not above b's %d", a.Token(), b.Token())
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// testLostCreateReply: the create reaches the server but its reply is lost
// with the connection. The protected create finds the node again, so the
// lock is taken with one node, not two.
func testLostCreateReply(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	admin := recipetest.Client(t, tg.Addr())
	if err := admin.EnsurePath(ctx, path); err != nil {
		t.Fatal(err)
	}
	px := recipetest.Proxy(t, tg.Addr())
	m := lock.NewMutex(recipetest.Client(t, px.Addr()), path)
	px.HoldReplies(true)
	res := make(chan error, 1)
	go func() { res <- m.Lock(ctx) }()
	recipetest.Eventually(t, "the create applied", func() bool { return len(recipetest.Children(t, admin, path)) == 1 })
	px.Cut()
	px.HoldReplies(false)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if kids := recipetest.Children(t, admin, path); len(kids) != 1 || framework.JoinPath(path, kids[0]) != m.Node() {
		t.Fatalf("nodes %v, hold %s", kids, m.Node())
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func testClosedClient(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	c := recipetest.Client(t, tg.Addr())
	m := lock.NewMutex(c, recipetest.Path(t, "lock"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Lock(ctx); !errors.Is(err, framework.ErrClosed) {
		t.Fatalf("Lock on a closed client = %v, want framework.ErrClosed", err)
	}
	if err := m.TryLock(ctx); !errors.Is(err, framework.ErrClosed) {
		t.Fatalf("TryLock on a closed client = %v, want framework.ErrClosed", err)
	}
}

// testExpiredWaiter: a waiter whose session expires keeps waiting: its
// Lock joins again with a node of its new session (its old node is gone),
// and gets the lock when the holder releases.
func testExpiredWaiter(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	admin := recipetest.Client(t, tg.Addr())
	holder := lock.NewMutex(admin, path)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	wc := recipetest.Client(t, tg.Addr())
	w := lock.NewMutex(wc, path)
	res := make(chan error, 1)
	go func() { res <- w.Lock(ctx) }()
	recipetest.Eventually(t, "waiter queued", func() bool { return len(recipetest.Children(t, admin, path)) == 2 })
	old := recipetest.Children(t, admin, path)
	oldSession := wc.SessionID()
	testtarget.ExpireSession(t, tg.Addr(), wc.Conn())
	recipetest.Eventually(t, "waiter queued again on a new session", func() bool {
		kids := recipetest.Children(t, admin, path)
		return len(kids) == 2 && !slices.Equal(kids, old) && wc.SessionID() != oldSession
	})
	select {
	case err := <-res:
		t.Fatalf("waiter's Lock returned (%v) while the lock is held", err)
	default:
	}
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if kids := recipetest.Children(t, admin, path); len(kids) != 1 || framework.JoinPath(path, kids[0]) != w.Node() {
		t.Fatalf("nodes %v, hold %s", kids, w.Node())
	}
	if err := w.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
