package counter_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/counter"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

func startCount(t *testing.T, c *framework.Client, path string, seed int32) *counter.SharedCount {
	t.Helper()
	s, err := counter.NewSharedCount(c, path, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Start(recipetest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

// values collects what a listener hears.
type values struct {
	mu  sync.Mutex
	got []int32
}

func (v *values) add(x int32) {
	v.mu.Lock()
	v.got = append(v.got, x)
	v.mu.Unlock()
}

func (v *values) has(x int32) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, g := range v.got {
		if g == x {
			return true
		}
	}
	return false
}

// TestSharedCount: the seed is written once and in Curator's 4-byte
// encoding; a Set by one participant reaches the other's copy and listener;
// TrySetCount fails on a stale version and succeeds on the current one.
func TestSharedCount(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		path := recipetest.Root(t) + "/count"
		ca, cb := recipetest.Client(t, tg.Addr), recipetest.Client(t, tg.Addr)
		a := startCount(t, ca, path, 7)
		b := startCount(t, cb, path, 99) // the node exists: seed ignored
		if a.Count() != 7 || b.Count() != 7 {
			t.Fatalf("counts %d, %d; want 7 (the first seed)", a.Count(), b.Count())
		}
		data, _, err := ca.Get(ctx, path)
		if err != nil || fmt.Sprintf("%x", data) != "00000007" {
			t.Fatalf("node data %x, %v; want 00000007", data, err)
		}
		var heard values
		b.Listen(heard.add)
		if err := a.SetCount(ctx, -3); err != nil {
			t.Fatal(err)
		}
		recipetest.Eventually(t, "b hears -3", func() bool { return heard.has(-3) && b.Count() == -3 })
		stale := a.Versioned()
		if ok, err := b.TrySetCount(ctx, b.Versioned(), 10); !ok || err != nil {
			t.Fatalf("TrySetCount with the current version = %v, %v", ok, err)
		}
		recipetest.Eventually(t, "a sees 10", func() bool { return a.Count() == 10 })
		if ok, err := a.TrySetCount(ctx, stale, 11); ok || err != nil {
			t.Fatalf("TrySetCount with a stale version = %v, %v; want false", ok, err)
		}
		if v, err := counter.DecodeInt32(counter.EncodeInt32(-123456)); v != -123456 || err != nil {
			t.Fatalf("round trip: %d, %v", v, err)
		}
	})
}

// TestSharedCountContention: writers that each add 1 with TrySetCount, again
// and again until it succeeds, end on the exact total.
func TestSharedCountContention(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		path := recipetest.Root(t)
		const writers, each = 4, 20
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := 0; w < writers; w++ {
			s := startCount(t, recipetest.Client(t, tg.Addr), path, 0)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					for {
						cur := s.Versioned()
						ok, err := s.TrySetCount(ctx, cur, cur.Value+1)
						if err != nil {
							errs <- err
							return
						}
						if ok {
							break
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		check := startCount(t, recipetest.Client(t, tg.Addr), path, 0)
		if got := check.Count(); got != writers*each {
			t.Fatalf("count %d, want %d", got, writers*each)
		}
	})
}

// TestAtomicLongContention: concurrent increments, some promoted to the lock
// at once (no optimistic retries), end exact, and every increment got its
// own post-value.
func TestAtomicLongContention(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		path := recipetest.Root(t) + "/n"
		const workers, each = 6, 25
		var mu sync.Mutex
		var posts []int64
		promoted := 0
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			var opts []counter.AtomicOption
			if w%2 == 0 {
				opts = append(opts, counter.WithRetryPolicy(framework.NoRetry()))
			}
			a, err := counter.NewAtomicLong(recipetest.Client(t, tg.Addr), path, opts...)
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					r, err := a.Increment(ctx)
					if errors.Is(err, counter.ErrGaveUp) {
						i-- // lost even under the lock to an optimistic writer: again
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					if !r.Succeeded || r.PostValue != r.PreValue+1 {
						errs <- fmt.Errorf("increment result %+v", r)
						return
					}
					mu.Lock()
					posts = append(posts, r.PostValue)
					if r.PromotedTries > 0 {
						promoted++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		a, _ := counter.NewAtomicLong(recipetest.Client(t, tg.Addr), path)
		if v, err := a.Get(ctx); err != nil || v != workers*each {
			t.Fatalf("Get = %d, %v; want %d", v, err, workers*each)
		}
		sort.Slice(posts, func(i, j int) bool { return posts[i] < posts[j] })
		for i, p := range posts {
			if p != int64(i+1) {
				t.Fatalf("post-values not 1..%d: %v", workers*each, posts)
			}
		}
		t.Logf("%d of %d increments were promoted to the lock", promoted, workers*each)
		kids, _, err := recipetest.Client(t, tg.Addr).Children(ctx, path+"-lock")
		if err == nil && len(kids) != 0 {
			t.Fatalf("lock nodes left: %v", kids)
		}
	})
}

// TestAtomicLongOps: Curator's 8-byte encoding and the other operations.
func TestAtomicLongOps(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		c := recipetest.Client(t, tg.Addr)
		path := recipetest.Root(t) + "/deep/n"
		a, err := counter.NewAtomicLong(c, path)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := a.Get(ctx); v != 0 || err != nil {
			t.Fatalf("Get of a missing counter = %d, %v", v, err)
		}
		if r, err := a.CompareAndSet(ctx, 0, 5); r.Succeeded || err != nil {
			t.Fatalf("CompareAndSet on a missing node = %+v, %v; want no success", r, err)
		}
		if ok, err := a.Initialize(ctx, 40); !ok || err != nil {
			t.Fatalf("Initialize = %v, %v", ok, err)
		}
		if ok, err := a.Initialize(ctx, 1); ok || err != nil {
			t.Fatalf("second Initialize = %v, %v", ok, err)
		}
		if r, err := a.Add(ctx, 2); err != nil || r.PreValue != 40 || r.PostValue != 42 {
			t.Fatalf("Add = %+v, %v", r, err)
		}
		data, _, _ := c.Get(ctx, path)
		if fmt.Sprintf("%x", data) != "000000000000002a" {
			t.Fatalf("data %x, want 000000000000002a", data)
		}
		if r, err := a.CompareAndSet(ctx, 41, 0); r.Succeeded || err != nil || r.PreValue != 42 {
			t.Fatalf("CompareAndSet(41) = %+v, %v", r, err)
		}
		if r, err := a.CompareAndSet(ctx, 42, -1); !r.Succeeded || err != nil {
			t.Fatalf("CompareAndSet(42) = %+v, %v", r, err)
		}
		if r, err := a.Subtract(ctx, 4); err != nil || r.PostValue != -5 {
			t.Fatalf("Subtract = %+v, %v", r, err)
		}
		if r, err := a.TrySet(ctx, 1<<40); err != nil || r.PostValue != 1<<40 {
			t.Fatalf("TrySet = %+v, %v", r, err)
		}
		other := recipetest.Root(t) + "/forced"
		b, _ := counter.NewAtomicLong(c, other)
		if err := b.ForceSet(ctx, 9); err != nil {
			t.Fatal(err)
		}
		if err := b.ForceSet(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if v, _ := b.Get(ctx); v != 10 {
			t.Fatalf("after ForceSet: %d", v)
		}
		if _, err := c.Set(ctx, other, []byte("xyz")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx); !errors.Is(err, counter.ErrCorrupt) {
			t.Fatalf("Get of 3 bytes = %v, want ErrCorrupt", err)
		}
		if _, err := b.Increment(ctx); !errors.Is(err, counter.ErrCorrupt) {
			t.Fatalf("Increment of 3 bytes = %v, want ErrCorrupt", err)
		}
		s, _ := counter.NewSharedCount(c, other, 0)
		defer s.Close()
		if err := s.Start(ctx); !errors.Is(err, counter.ErrCorrupt) {
			t.Fatalf("SharedCount.Start on 3 bytes = %v, want ErrCorrupt", err)
		}
	})
}

// TestSharedCountAcrossOutages: a value written while a participant is cut
// off (same session), and again while its session expires, reaches it when it
// is back.
func TestSharedCountAcrossOutages(t *testing.T) {
	recipetest.SkipReconnectRace(t)
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		path := recipetest.Root(t)
		w := startCount(t, recipetest.Client(t, tg.Addr), path, 0)
		px := recipetest.Proxy(t, tg.Addr)
		c := recipetest.Client(t, px.Addr())
		states := recipetest.States(t, c)
		s := startCount(t, c, path, 0)
		var heard values
		s.Listen(heard.add)

		px.Refuse(true)
		px.Cut()
		recipetest.Expect(t, states, framework.Suspended)
		if err := w.SetCount(ctx, 1); err != nil {
			t.Fatal(err)
		}
		px.Refuse(false)
		recipetest.Expect(t, states, framework.Reconnected)
		recipetest.Eventually(t, "1 after a reconnect", func() bool { return heard.has(1) && s.Count() == 1 })

		px.Refuse(true)
		px.Cut()
		recipetest.Expect(t, states, framework.Suspended)
		recipetest.Expire(t, tg.Addr, c)
		if err := w.SetCount(ctx, 2); err != nil {
			t.Fatal(err)
		}
		px.Refuse(false)
		recipetest.Expect(t, states, framework.Lost, framework.Reconnected)
		recipetest.Eventually(t, "2 after a new session", func() bool { return heard.has(2) && s.Count() == 2 })
		if ok, err := s.TrySetCount(ctx, s.Versioned(), 3); !ok || err != nil {
			t.Fatalf("TrySetCount after the new session = %v, %v", ok, err)
		}
	})
}

// TestBadArguments: invalid paths are errors and create nothing; operations
// before Start or after Close are refused.
func TestBadArguments(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		c := recipetest.Client(t, tg.Addr)
		for _, p := range []string{"", "x", "/", "/a/", "/a//b", "/a/./b"} {
			if _, err := counter.NewSharedCount(c, p, 0); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("NewSharedCount(%q) = %v", p, err)
			}
			if _, err := counter.NewAtomicLong(c, p); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("NewAtomicLong(%q) = %v", p, err)
			}
		}
		path := recipetest.Root(t)
		s, _ := counter.NewSharedCount(c, path, 0)
		if err := s.SetCount(ctx, 1); !errors.Is(err, counter.ErrNotStarted) {
			t.Errorf("SetCount before Start = %v", err)
		}
		_ = s.Close()
		if err := s.Start(ctx); !errors.Is(err, counter.ErrClosed) {
			t.Errorf("Start after Close = %v", err)
		}
		if st, err := c.Exists(ctx, path); st != nil || err != nil {
			t.Errorf("node created: %v, %v", st, err)
		}
		if _, err := counter.DecodeInt32([]byte{1, 2}); !errors.Is(err, counter.ErrCorrupt) {
			t.Errorf("DecodeInt32 of 2 bytes = %v", err)
		}
		var _ context.Context = ctx
	})
}
