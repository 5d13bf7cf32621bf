package cache_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/cache"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// outageChanges makes, while the cache's client is away, one change of each
// kind: a delete, a change, a create, and a delete + create of the same name
// with the same data. It returns the node events the cache must report for
// them, as "TYPE path" sorted.
func outageChanges(t *testing.T, w *framework.Client, root string) []string {
	t.Helper()
	ctx := recipetest.Ctx(t)
	if err := w.Delete(ctx, root+"/del", framework.Recursive()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Set(ctx, root+"/change", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Create(ctx, root+"/new", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := w.Delete(ctx, root+"/recreate"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Create(ctx, root+"/recreate", []byte("r")); err != nil {
		t.Fatal(err)
	}
	return []string{
		"NODE_CHANGED " + root + "/change",
		"NODE_CREATED " + root + "/new",
		"NODE_CREATED " + root + "/recreate",
		"NODE_DELETED " + root + "/del",
		"NODE_DELETED " + root + "/del/child",
		"NODE_DELETED " + root + "/recreate",
	}
}

func outageTree(t *testing.T, w *framework.Client, root string) {
	t.Helper()
	ctx := recipetest.Ctx(t)
	for _, p := range []string{root, root + "/keep", root + "/change", root + "/del", root + "/del/child", root + "/recreate"} {
		if _, err := w.Create(ctx, p, []byte("r"), framework.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
}

// nodeEvents lists the node events of evs, except changes of root (the
// settle marker), as "TYPE path" sorted.
func nodeEvents(evs []cache.Event, root string) []string {
	var out []string
	for _, ev := range evs {
		switch ev.Type {
		case cache.NodeCreated, cache.NodeChanged, cache.NodeDeleted:
			if ev.Type == cache.NodeChanged && ev.Node.Path == root {
				continue
			}
			out = append(out, fmt.Sprintf("%v %s", ev.Type, ev.Node.Path))
		}
	}
	sort.Strings(out)
	return out
}

func countType(evs []cache.Event, typ cache.EventType) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// TestTreeRebuildAfterReconnect: changes made while the cache's connection is
// down (same session) are reported once each when it comes back, a deleted
// and re-created node as a delete and a create, and nothing else.
func TestTreeRebuildAfterReconnect(t *testing.T) {
	recipetest.SkipReconnectRace(t)
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		root := recipetest.Root(t)
		w := recipetest.Client(t, tg.Addr)
		outageTree(t, w, root)
		px := recipetest.Proxy(t, tg.Addr)
		c := recipetest.Client(t, px.Addr())
		states := recipetest.States(t, c)
		tree, rec := startTree(t, c, root)
		from := rec.len()

		px.Refuse(true)
		px.Cut()
		recipetest.Expect(t, states, framework.Suspended)
		want := outageChanges(t, w, root)
		px.Refuse(false)
		recipetest.Expect(t, states, framework.Reconnected)
		// The cache may read the changes before it hears of RECONNECTED; settle
		// after its rebuild, so that anything it invented would show.
		rc := rec.waitFor(t, from, "CONNECTION_RECONNECTED", isType(cache.ConnectionReconnected))
		end := settle(t, w, root, rec, rc)

		evs := rec.snapshot()[from : end+1]
		if got := nodeEvents(evs, root); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events after the outage:\n got %v\nwant %v\n(all: %v)", got, want, evs)
		}
		if countType(evs, cache.ConnectionSuspended) != 1 || countType(evs, cache.ConnectionReconnected) != 1 {
			t.Fatalf("want one CONNECTION_SUSPENDED and one CONNECTION_RECONNECTED: %v", evs)
		}
		if n := countType(evs, cache.Initialized) + countType(evs, cache.ConnectionLost); n != 0 {
			t.Fatalf("same session, yet INITIALIZED or LOST: %v", evs)
		}
		checkAgainstServer(t, w, root, tree, rec)
	})
}

// TestTreeRebuildAfterSessionExpiry: after the cache's session expired, the
// rebuild on the new session reports exactly what changed (including the old
// session's ephemeral node going away), then Initialized again.
func TestTreeRebuildAfterSessionExpiry(t *testing.T) {
	recipetest.SkipReconnectRace(t)
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		root := recipetest.Root(t)
		w := recipetest.Client(t, tg.Addr)
		outageTree(t, w, root)
		px := recipetest.Proxy(t, tg.Addr)
		c := recipetest.Client(t, px.Addr())
		if _, err := c.Create(ctx, root+"/eph", []byte("mine"), framework.WithMode(framework.ModeEphemeral)); err != nil {
			t.Fatal(err)
		}
		states := recipetest.States(t, c)
		tree, rec := startTree(t, c, root)
		from := rec.len()

		px.Refuse(true)
		px.Cut()
		recipetest.Expect(t, states, framework.Suspended)
		recipetest.Expire(t, tg.Addr, c)
		want := append(outageChanges(t, w, root), "NODE_DELETED "+root+"/eph")
		sort.Strings(want)
		px.Refuse(false)
		recipetest.Expect(t, states, framework.Lost, framework.Reconnected)
		init := rec.waitFor(t, from, "INITIALIZED after the rebuild", isType(cache.Initialized))
		end := settle(t, w, root, rec, init)

		evs := rec.snapshot()[from : end+1]
		if got := nodeEvents(evs, root); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events after the expiry:\n got %v\nwant %v\n(all: %v)", got, want, evs)
		}
		if countType(evs, cache.ConnectionLost) != 1 {
			t.Fatalf("want one CONNECTION_LOST: %v", evs)
		}
		checkAgainstServer(t, w, root, tree, rec)
	})
}

// TestTreeCutsDuringChanges: connections cut again and again while a writer
// changes the tree; the events stay complete, possible and in zxid order, and
// the cache ends equal to the server.
func TestTreeCutsDuringChanges(t *testing.T) {
	recipetest.SkipReconnectRace(t)
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		root := recipetest.Root(t)
		w := recipetest.Client(t, tg.Addr)
		if _, err := w.Create(ctx, root, nil, framework.WithParents()); err != nil {
			t.Fatal(err)
		}
		px := recipetest.Proxy(t, tg.Addr)
		tree, rec := startTree(t, recipetest.Client(t, px.Addr()), root)
		m := newMutator(w, root, 7)
		for i := 0; i < 200; i++ {
			if i%20 == 10 {
				px.Cut()
			}
			if err := m.step(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		settle(t, w, root, rec, 0)
		checkAgainstServer(t, w, root, tree, rec)
	})
}
