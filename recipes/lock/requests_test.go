package lock_test

import (
	"maps"
	"testing"

	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/lock"
)

// testRequestsPerCycle pins down the round trips of a lock cycle, counted
// on the wire. Alone on its path a Lock+Unlock is create, getChildren,
// exists (the token and owner, read beside the listing) and delete. A
// waiter woken by its predecessor's delete sends one request, the listing,
// before it holds: the hand-off's critical path is the release, the watch
// event and that one read.
func testRequestsPerCycle(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "lock")
	c, reqs := recipetest.CountingClient(t, tg.Addr())
	m := lock.NewMutex(c, path)
	cycle := func(m *lock.Mutex) {
		t.Helper()
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cycle(m) // the first also creates the container
	reqs.Reset()
	const cycles = 5
	for range cycles {
		cycle(m)
	}
	want := map[string]int{"create": cycles, "getChildren2": cycles, "exists": cycles, "delete": cycles}
	if got := reqs.Counts(); !maps.Equal(got, want) {
		t.Fatalf("%d uncontended cycles sent %v, want %v", cycles, got, want)
	}

	holder := lock.NewMutex(recipetest.Client(t, tg.Addr()), path)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	reqs.Reset()
	locked := make(chan error, 1)
	go func() { locked <- m.Lock(ctx) }()
	// The waiter has created its node, listed, read its stat and set its
	// one watch on the holder's node: it now only waits.
	queued := map[string]int{"create": 1, "getChildren2": 1, "exists": 1, "getData": 1}
	recipetest.Eventually(t, "the waiter watching the holder", func() bool { return maps.Equal(reqs.Counts(), queued) })
	reqs.Reset()
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	if got, want := reqs.Counts(), map[string]int{"getChildren2": 1}; !maps.Equal(got, want) {
		t.Fatalf("the woken waiter sent %v before it held, want %v", got, want)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
