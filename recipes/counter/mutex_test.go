package counter

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// TestMutexCancelledWaiterLeavesNoNode: a waiter whose ctx ends removes its
// node; the holder's Unlock leaves the lock path empty; order is Curator's.
func TestMutexCancelledWaiterLeavesNoNode(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		path := recipetest.Root(t) + "-lock"
		c := recipetest.Client(t, tg.Addr)
		holder := newMutex(c, path)
		if err := holder.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		waiter := newMutex(recipetest.Client(t, tg.Addr), path)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- waiter.Lock(wctx) }()
		recipetest.Eventually(t, "the waiter's node", func() bool {
			kids, _, err := c.Children(ctx, path)
			return err == nil && len(kids) == 2
		})
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Lock = %v", err)
		}
		// The cancel may land while the create's reply is in flight; the
		// framework then finds and deletes the node in the background.
		recipetest.Eventually(t, "only the holder's node", func() bool {
			kids, _, err := c.Children(ctx, path)
			return err == nil && len(kids) == 1
		})
		if err := holder.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := holder.Unlock(ctx); err == nil {
			t.Fatal("second Unlock: no error")
		}
		kids, _, err := c.Children(ctx, path)
		if err == nil && len(kids) != 0 {
			t.Fatalf("after Unlock: %v", kids)
		}
		// The next one gets it at once.
		tctx, tcancel := context.WithTimeout(ctx, 10*time.Second)
		defer tcancel()
		if err := waiter.Lock(tctx); err != nil {
			t.Fatal(err)
		}
		if err := waiter.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSortKey(t *testing.T) {
	for name, want := range map[string]string{
		"_c_3f6d2a8e-55c1-4c2e-9b61-0e7f2a1c9d40-lock-0000000012": "0000000012",
		"lock-0000000003": "0000000003",
		"foreign":         "foreign",
	} {
		if got := sortKey(name); got != want {
			t.Errorf("sortKey(%q) = %q, want %q", name, got, want)
		}
	}
}
