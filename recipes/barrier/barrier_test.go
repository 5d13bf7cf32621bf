package barrier_test

import (
	"context"
	"errors"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/barrier"
)

// TestBarrier: Wait returns at once on an open barrier, blocks every waiter
// (each on its own client) while it is set, and releases them all on Remove.
// Set and Remove are idempotent; a waiter whose ctx ends returns its error.
func TestBarrier(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/deep/gate"
		admin := newClient(t, addr)
		b := barrier.New(admin, p)
		if err := b.Wait(ctx); err != nil {
			t.Fatalf("Wait on an open barrier: %v", err)
		}
		for range 2 {
			if err := b.Set(ctx); err != nil {
				t.Fatalf("Set: %v", err)
			}
		}
		const waiters = 4
		released := make(chan error, waiters)
		for range waiters {
			w := barrier.New(newClient(t, addr), p)
			go func() { released <- w.Wait(ctx) }()
		}
		cancelled, cancel := context.WithCancel(ctx)
		gone := make(chan error, 1)
		go func() { gone <- barrier.New(newClient(t, addr), p).Wait(cancelled) }()
		cancel()
		if err := <-gone; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Wait: %v", err)
		}
		select {
		case err := <-released:
			t.Fatalf("a waiter passed a set barrier: %v", err)
		default:
		}
		for range 2 {
			if err := b.Remove(ctx); err != nil {
				t.Fatalf("Remove: %v", err)
			}
		}
		for range waiters {
			if err := <-released; err != nil {
				t.Fatalf("Wait: %v", err)
			}
		}
	})
}

// TestBadArguments: invalid paths, a nil client and members < 1 are errors
// wrapping framework.ErrInvalidPath or a barrier sentinel, and nothing is
// created on the server.
func TestBadArguments(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		c := newClient(t, addr)
		p := testPath(t)
		for _, bad := range []string{"", "relative", "/", p + "/", p + "//x", p + "/../x"} {
			b := barrier.New(c, bad)
			for name, err := range map[string]error{"Set": b.Set(ctx), "Remove": b.Remove(ctx), "Wait": b.Wait(ctx)} {
				if !errors.Is(err, framework.ErrInvalidPath) {
					t.Errorf("%s on %q: %v, want ErrInvalidPath", name, bad, err)
				}
			}
			if err := barrier.NewDouble(c, bad, "me", 2).Enter(ctx); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("Enter on %q: %v, want ErrInvalidPath", bad, err)
			}
		}
		if err := barrier.New(nil, p).Set(ctx); !errors.Is(err, barrier.ErrNilClient) {
			t.Errorf("Set with a nil client: %v", err)
		}
		if err := barrier.NewDouble(nil, p, "me", 2).Enter(ctx); !errors.Is(err, barrier.ErrNilClient) {
			t.Errorf("Enter with a nil client: %v", err)
		}
		for _, n := range []int{0, -1} {
			d := barrier.NewDouble(c, p, "me", n)
			if err := d.Enter(ctx); !errors.Is(err, barrier.ErrInvalidMembers) {
				t.Errorf("Enter with members %d: %v", n, err)
			}
			if err := d.Leave(ctx); !errors.Is(err, barrier.ErrInvalidMembers) {
				t.Errorf("Leave with members %d: %v", n, err)
			}
		}
		if err := barrier.NewDouble(c, p, "me", 1).Leave(ctx); !errors.Is(err, barrier.ErrNotEntered) {
			t.Errorf("Leave before Enter: %v", err)
		}
		if st, err := c.Exists(ctx, p); err != nil || st != nil {
			t.Fatalf("a bad argument created %s (%v, %v)", p, st, err)
		}
	})
}
