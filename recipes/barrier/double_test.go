package barrier_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/barrier"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// members lists the member nodes of a double barrier (children but ready).
func members(t *testing.T, c *framework.Client, p string) []string {
	t.Helper()
	kids, _, err := c.Children(testCtx(t), p)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		t.Fatalf("children of %s: %v", p, err)
	}
	return slices.DeleteFunc(kids, func(k string) bool { return k == "ready" })
}

// eventually polls cond until it holds or the test's deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	recipetest.Eventually(t, what, cond)
}

func noneYet(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned early (%v)", what, err)
	default:
	}
}

// TestDoubleBarrier: with four members on four clients, nobody passes Enter
// before the fourth has entered and every member passes after; nobody passes
// Leave before the last has started leaving; afterwards no member node and no
// ready node is left, and the same members can go round again.
func TestDoubleBarrier(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t)
		obs := newClient(t, addr)
		const n = 4
		var ds []*barrier.DoubleBarrier
		for i := range n {
			ds = append(ds, barrier.NewDouble(newClient(t, addr), p, fmt.Sprintf("member-%d", i), n))
		}
		for round := range 2 {
			entered := make(chan error, n)
			for _, d := range ds[:n-1] {
				go func() { entered <- d.Enter(ctx) }()
			}
			eventually(t, "three members waiting", func() bool { return len(members(t, obs, p)) == n-1 })
			noneYet(t, entered, "Enter")
			go func() { entered <- ds[n-1].Enter(ctx) }()
			for range n {
				if err := <-entered; err != nil {
					t.Fatalf("round %d: Enter: %v", round, err)
				}
			}
			if st, err := obs.Exists(ctx, p+"/ready"); err != nil || st == nil {
				t.Fatalf("round %d: ready missing after Enter (%v)", round, err)
			}
			if err := ds[0].Enter(ctx); !errors.Is(err, barrier.ErrEntered) {
				t.Fatalf("second Enter: %v", err)
			}

			left := make(chan error, n)
			for _, d := range ds[:n-1] {
				go func() { left <- d.Leave(ctx) }()
			}
			// The non-lowest leavers delete their nodes at once; at most the
			// lowest leaver and the member still inside remain.
			eventually(t, "leavers' nodes gone", func() bool { return len(members(t, obs, p)) <= 2 })
			noneYet(t, left, "Leave")
			go func() { left <- ds[n-1].Leave(ctx) }()
			for range n {
				if err := <-left; err != nil {
					t.Fatalf("round %d: Leave: %v", round, err)
				}
			}
			if m := members(t, obs, p); len(m) != 0 {
				t.Fatalf("round %d: members left behind: %v", round, m)
			}
			if st, err := obs.Exists(ctx, p+"/ready"); err != nil || st != nil {
				t.Fatalf("round %d: ready left behind (%v)", round, err)
			}
		}
	})
}

// TestDoubleBarrierCancelledEnter: a member whose Enter ctx ends deletes its
// node, so it is not counted, and the barrier opens for a full set later.
func TestDoubleBarrierCancelledEnter(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t)
		obs := newClient(t, addr)
		quitter := barrier.NewDouble(newClient(t, addr), p, "quitter", 2)
		short, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- quitter.Enter(short) }()
		eventually(t, "quitter waiting", func() bool { return len(members(t, obs, p)) == 1 })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Enter: %v", err)
		}
		if m := members(t, obs, p); len(m) != 0 {
			t.Fatalf("cancelled Enter left %v", m)
		}
		// One new member alone must still wait: the quitter is not counted.
		a := barrier.NewDouble(newClient(t, addr), p, "a", 2)
		b := barrier.NewDouble(newClient(t, addr), p, "b", 2)
		entered := make(chan error, 2)
		go func() { entered <- a.Enter(ctx) }()
		eventually(t, "a waiting", func() bool { return len(members(t, obs, p)) == 1 })
		noneYet(t, entered, "Enter of a lone member")
		go func() { entered <- b.Enter(ctx) }()
		for range 2 {
			if err := <-entered; err != nil {
				t.Fatal(err)
			}
		}
		left := make(chan error, 2)
		go func() { left <- a.Leave(ctx) }()
		go func() { left <- b.Leave(ctx) }()
		for range 2 {
			if err := <-left; err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestDoubleBarrierSessionLost: a member whose session expires while it waits
// in Enter joins again in its new session, and the barrier still releases
// both members.
func TestDoubleBarrierSessionLost(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t)
		obs := newClient(t, addr)
		ca := newClient(t, addr)
		a := barrier.NewDouble(ca, p, "a", 2)
		entered := make(chan error, 2)
		go func() { entered <- a.Enter(ctx) }()
		eventually(t, "a waiting", func() bool { return len(members(t, obs, p)) == 1 })
		old := ca.SessionID()
		testtarget.ExpireSession(t, addr, ca.Conn())
		eventually(t, "a back in a new session", func() bool {
			m := members(t, obs, p)
			if len(m) != 1 {
				return false
			}
			st, err := obs.Exists(ctx, p+"/"+m[0])
			return err == nil && st != nil && st.EphemeralOwner != old && st.EphemeralOwner == ca.SessionID()
		})
		noneYet(t, entered, "Enter of a lone member")
		b := barrier.NewDouble(newClient(t, addr), p, "b", 2)
		go func() { entered <- b.Enter(ctx) }()
		for range 2 {
			if err := <-entered; err != nil {
				t.Fatal(err)
			}
		}
		left := make(chan error, 2)
		go func() { left <- a.Leave(ctx) }()
		go func() { left <- b.Leave(ctx) }()
		for range 2 {
			if err := <-left; err != nil {
				t.Fatal(err)
			}
		}
		if m := members(t, obs, p); len(m) != 0 {
			t.Fatalf("left behind %v", m)
		}
	})
}

// TestDoubleBarrierCancelledLeave: a member whose Leave ctx ends has left
// all the same (its node is gone), and the others' Leave still completes.
func TestDoubleBarrierCancelledLeave(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t)
		obs := newClient(t, addr)
		a := barrier.NewDouble(newClient(t, addr), p, "a", 2)
		b := barrier.NewDouble(newClient(t, addr), p, "b", 2)
		entered := make(chan error, 2)
		go func() { entered <- a.Enter(ctx) }()
		go func() { entered <- b.Enter(ctx) }()
		for range 2 {
			if err := <-entered; err != nil {
				t.Fatal(err)
			}
		}
		short, cancel := context.WithCancel(ctx)
		left := make(chan error, 1)
		go func() { left <- a.Leave(short) }()
		// a is waiting for b (a's node may already be gone if it is not the lowest).
		noneYet(t, left, "Leave while another member is inside")
		cancel()
		if err := <-left; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Leave: %v", err)
		}
		if m := members(t, obs, p); len(m) != 1 {
			t.Fatalf("members after a's cancelled Leave: %v, want b's alone", m)
		}
		if err := b.Leave(ctx); err != nil {
			t.Fatal(err)
		}
		if m := members(t, obs, p); len(m) != 0 {
			t.Fatalf("left behind %v", m)
		}
		if err := a.Leave(ctx); !errors.Is(err, barrier.ErrNotEntered) {
			t.Fatalf("Leave after a cancelled Leave: %v", err)
		}
	})
}
