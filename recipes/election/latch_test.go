package election_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/election"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// expectLeadership reads the next value from a Leadership channel.
func expectLeadership(t *testing.T, ch <-chan bool, want bool) {
	t.Helper()
	select {
	case got, ok := <-ch:
		if !ok {
			t.Fatalf("Leadership channel closed, want %v", want)
		}
		if got != want {
			t.Fatalf("Leadership = %v, want %v", got, want)
		}
	case <-recipetest.Ctx(t).Done():
		t.Fatalf("no Leadership value, want %v", want)
	}
}

// testLatchElectsOne: three latches elect the first; all agree on it; when
// it closes, the next in order leads.
func testLatchElectsOne(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "latch")
	var latches []*election.Latch
	for i := range 3 {
		l := election.NewLatch(recipetest.Client(t, tg.Addr()), path, fmt.Sprintf("p%d", i))
		t.Cleanup(func() { _ = l.Close(ctx) })
		if err := l.Start(ctx); err != nil {
			t.Fatal(err)
		}
		latches = append(latches, l)
	}
	ch := latches[1].Leadership()
	if err := latches[0].Await(ctx); err != nil {
		t.Fatal(err)
	}
	// Each participant watches only its predecessor.
	recipetest.Chain(t, recipetest.Client(t, tg.Addr()), tg.Addr(), path, "latch-")
	for i, l := range latches {
		id, err := l.Leader(ctx)
		if err != nil || id != "p0" {
			t.Fatalf("latch %d: Leader = %q, %v; want p0", i, id, err)
		}
		if got := l.HasLeadership(); got != (i == 0) {
			t.Fatalf("latch %d: HasLeadership %v", i, got)
		}
	}
	ps, err := latches[2].Participants(ctx)
	if err != nil || len(ps) != 3 || ps[0] != (election.Participant{ID: "p0", Leader: true}) || ps[2].ID != "p2" || ps[1].Leader {
		t.Fatalf("Participants = %+v, %v", ps, err)
	}
	if err := latches[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	if latches[0].HasLeadership() {
		t.Fatal("closed latch still leader")
	}
	expectLeadership(t, ch, true)
	if latches[2].HasLeadership() {
		t.Fatal("two leaders")
	}
	if id, err := latches[2].Leader(ctx); err != nil || id != "p1" {
		t.Fatalf("Leader after close = %q, %v", id, err)
	}
}

// testLatchSuspended: a cut connection makes the leader give leadership up
// at once; back on the same session, still first, it leads again.
func testLatchSuspended(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "latch")
	px := recipetest.Proxy(t, tg.Addr())
	c := recipetest.Client(t, px.Addr())
	l := election.NewLatch(c, path, "leader")
	t.Cleanup(func() { _ = l.Close(ctx) })
	ch := l.Leadership()
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	expectLeadership(t, ch, true)
	sid, node := c.SessionID(), l.Node()
	px.Cut()
	expectLeadership(t, ch, false)
	expectLeadership(t, ch, true)
	if c.SessionID() != sid || l.Node() != node {
		t.Fatalf("session or node changed by a short cut (%#x→%#x, %s→%s)", sid, c.SessionID(), node, l.Node())
	}
}

// testLatchExpired: when the leader's session expires, it stops leading, the
// next participant leads, and the old one joins again at the back.
func testLatchExpired(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "latch")
	ac := recipetest.Client(t, tg.Addr())
	a := election.NewLatch(ac, path, "a")
	b := election.NewLatch(recipetest.Client(t, tg.Addr()), path, "b")
	for _, l := range []*election.Latch{a, b} {
		t.Cleanup(func() { _ = l.Close(ctx) })
		if err := l.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Await(ctx); err != nil {
		t.Fatal(err)
	}
	ach, bch := a.Leadership(), b.Leadership()
	expectLeadership(t, ach, true)
	old := a.Node()
	testtarget.ExpireSession(t, tg.Addr(), ac.Conn())
	expectLeadership(t, ach, false)
	expectLeadership(t, bch, true)
	recipetest.Eventually(t, "a rejoined", func() bool {
		ps, err := b.Participants(ctx)
		return err == nil && len(ps) == 2 && ps[1].ID == "a" && a.Node() != "" && a.Node() != old
	})
	if a.HasLeadership() {
		t.Fatal("a leads again behind b")
	}
}

// testLatchLifecycle: Start twice, Close twice, Start and Await after Close;
// Close removes the node and closes the Leadership channels.
func testLatchLifecycle(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "latch")
	c := recipetest.Client(t, tg.Addr())
	l := election.NewLatch(c, path, "x")
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(ctx); !errors.Is(err, election.ErrStarted) {
		t.Fatalf("second Start = %v", err)
	}
	if err := l.Await(ctx); err != nil {
		t.Fatal(err)
	}
	ch := l.Leadership()
	expectLeadership(t, ch, true)
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("Leadership channel open after Close")
	}
	if err := l.Close(ctx); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := l.Start(ctx); !errors.Is(err, election.ErrClosed) {
		t.Fatalf("Start after Close = %v", err)
	}
	if err := l.Await(ctx); !errors.Is(err, election.ErrClosed) {
		t.Fatalf("Await after Close = %v", err)
	}
	if kids := recipetest.Children(t, c, path); len(kids) != 0 || l.Node() != "" {
		t.Fatalf("nodes after Close: %v (Node %q)", kids, l.Node())
	}
	if _, err := l.Leader(ctx); !errors.Is(err, election.ErrNoLeader) {
		t.Fatalf("Leader of an empty election = %v", err)
	}
	// A latch closed without Start, and one whose client closed.
	never := election.NewLatch(c, path, "never")
	nch := never.Leadership()
	if err := never.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-nch; ok {
		t.Fatal("Leadership of a never-started latch open after Close")
	}
	c2 := recipetest.Client(t, tg.Addr())
	orphan := election.NewLatch(c2, path, "orphan")
	if err := orphan.Start(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c2.Close()
	// The latch stops with its client: Await then reports ErrClosed.
	recipetest.Eventually(t, "latch stopped with its client", func() bool {
		return errors.Is(orphan.Await(ctx), election.ErrClosed)
	})
	if orphan.HasLeadership() {
		t.Fatal("leader with a closed client")
	}
	if err := orphan.Close(ctx); err != nil && !errors.Is(err, framework.ErrClosed) {
		t.Fatalf("Close with a closed client = %v", err)
	}
}
