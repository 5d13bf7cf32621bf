package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/cache"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// startTree starts a recorded tree cache of root on c and waits until the
// recorder has the initial load's Initialized.
func startTree(t *testing.T, c *framework.Client, root string, opts ...cache.Option) (*cache.Tree, *recorder) {
	t.Helper()
	tree, err := cache.NewTree(c, root, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tree.Close() })
	rec := newRecorder()
	tree.Listen(rec.add)
	if err := tree.Start(); err != nil {
		t.Fatal(err)
	}
	if err := tree.AwaitInitialized(recipetest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 0, "INITIALIZED", isType(cache.Initialized))
	return tree, rec
}

// mutator makes random but reproducible changes to a tree of depth 3 below
// root, keeping its own list of which nodes exist.
type mutator struct {
	c     *framework.Client
	root  string
	rng   *rand.Rand
	nodes map[string]bool
}

func newMutator(c *framework.Client, root string, seed uint64) *mutator {
	return &mutator{c: c, root: root, rng: rand.New(rand.NewPCG(seed, 1)), nodes: map[string]bool{root: true}}
}

func (m *mutator) hasKids(p string) bool {
	for q := range m.nodes {
		if len(q) > len(p) && q[:len(p)+1] == p+"/" {
			return true
		}
	}
	return false
}

// step makes one change: create, set, delete, or a two-node transaction.
func (m *mutator) step(ctx context.Context, i int) error {
	names := []string{"a", "b", "c"}
	p := m.root
	for d := 0; d < 1+m.rng.IntN(3); d++ {
		p = framework.JoinPath(p, names[m.rng.IntN(len(names))])
	}
	parent, _ := framework.SplitPath(p)
	data := []byte(fmt.Sprintf("v%d", i))
	switch {
	case !m.nodes[p] && m.nodes[parent] && m.rng.IntN(4) == 0:
		// a transaction: the node and a child in one zxid
		child := framework.JoinPath(p, "t")
		if _, err := m.c.Txn().Create(p, data, framework.ModePersistent, nil).Create(child, data, framework.ModePersistent, nil).Commit(ctx); err != nil {
			return err
		}
		m.nodes[p], m.nodes[child] = true, true
	case !m.nodes[p] && m.nodes[parent]:
		if _, err := m.c.Create(ctx, p, data); err != nil {
			return err
		}
		m.nodes[p] = true
	case m.nodes[p] && p != m.root && !m.hasKids(p) && m.rng.IntN(3) == 0:
		if err := m.c.Delete(ctx, p); err != nil {
			return err
		}
		delete(m.nodes, p)
	case m.nodes[p]:
		if _, err := m.c.Set(ctx, p, data); err != nil {
			return err
		}
	}
	return nil
}

// settle writes a marker to root's data and waits until the cache reports it:
// every earlier change has then been delivered.
func settle(t *testing.T, w *framework.Client, root string, rec *recorder, from int) int {
	t.Helper()
	marker := []byte(fmt.Sprintf("settle-%d", rec.len()))
	if _, err := w.Set(recipetest.Ctx(t), root, marker); err != nil {
		t.Fatal(err)
	}
	return rec.waitFor(t, from, "the settle marker", func(ev cache.Event) bool {
		return ev.Type == cache.NodeChanged && ev.Node.Path == root && bytes.Equal(ev.Node.Data, marker)
	})
}

// checkAgainstServer compares the cache and the replayed events with the tree
// on the server.
func checkAgainstServer(t *testing.T, w *framework.Client, root string, tree *cache.Tree, rec *recorder) {
	t.Helper()
	want := actual(t, w, root)
	if err := sameTree(replay(t, root, rec.snapshot()), want); err != nil {
		t.Fatalf("events replayed vs server: %v", err)
	}
	if err := sameTree(fromNodes(tree.Nodes()), want); err != nil {
		t.Fatalf("cache vs server: %v", err)
	}
	for p := range want {
		kids, ok := tree.Children(p)
		wantKids, _, err := w.Children(recipetest.Ctx(t), p)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(wantKids)
		if !ok || fmt.Sprint(kids) != fmt.Sprint(wantKids) {
			t.Fatalf("Children(%s) = %v, %v; server %v", p, kids, ok, wantKids)
		}
	}
}

// TestTreeLoadAndChanges: the initial load reports every node, parents
// first, then Initialized; random changes (creates, sets, deletes,
// transactions) are reported in zxid order and the cache ends equal to the
// server's tree.
func TestTreeLoadAndChanges(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		w := recipetest.Client(t, tg.Addr)
		root := recipetest.Root(t)
		for _, p := range []string{root, root + "/a", root + "/a/x", root + "/b"} {
			if _, err := w.Create(ctx, p, []byte("init:"+p), framework.WithParents()); err != nil {
				t.Fatal(err)
			}
		}
		tree, rec := startTree(t, recipetest.Client(t, tg.Addr), root)
		init := rec.waitFor(t, 0, "Initialized", isType(cache.Initialized))
		evs := rec.snapshot()
		var loaded []string
		for _, ev := range evs[:init] {
			if ev.Type != cache.NodeCreated {
				t.Fatalf("load event %v, want only NodeCreated", ev)
			}
			loaded = append(loaded, ev.Node.Path)
		}
		if want := []string{root, root + "/a", root + "/a/x", root + "/b"}; fmt.Sprint(loaded) != fmt.Sprint(want) {
			t.Fatalf("load order %v, want %v", loaded, want)
		}
		if n, ok := tree.Get(root + "/a/x"); !ok || string(n.Data) != "init:"+root+"/a/x" {
			t.Fatalf("Get(a/x) = %+v, %v", n, ok)
		}
		m := newMutator(w, root, 1)
		m.nodes[root+"/a"], m.nodes[root+"/a/x"], m.nodes[root+"/b"] = true, true, true
		for i := 0; i < 150; i++ {
			if err := m.step(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		settle(t, w, root, rec, init)
		checkAgainstServer(t, w, root, tree, rec)
	})
}

// TestTreeZxidOrderConcurrentWriters: four clients write at once to their own
// nodes; the cache's creations and changes come in zxid order.
func TestTreeZxidOrderConcurrentWriters(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		root := recipetest.Root(t)
		w := recipetest.Client(t, tg.Addr)
		if _, err := w.Create(ctx, root, nil, framework.WithParents()); err != nil {
			t.Fatal(err)
		}
		tree, rec := startTree(t, recipetest.Client(t, tg.Addr), root)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			c := recipetest.Client(t, tg.Addr)
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := fmt.Sprintf("%s/w%d", root, g)
				if _, err := c.Create(ctx, p, nil); err != nil {
					errs <- err
					return
				}
				for i := 0; i < 40; i++ {
					if _, err := c.Set(ctx, p, []byte(fmt.Sprint(i))); err != nil {
						errs <- err
						return
					}
					if i%10 == 0 {
						if _, err := c.Create(ctx, fmt.Sprintf("%s/k%d", p, i), nil); err != nil {
							errs <- err
							return
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
		settle(t, w, root, rec, 0)
		checkAgainstServer(t, w, root, tree, rec)
	})
}

// TestTreeRootComesAndGoes: a cache of a missing root is initialized empty,
// loads the root when it appears, reports the whole subtree deleted (children
// first) when it goes, and goes on working when it comes back (CURATOR-388).
func TestTreeRootComesAndGoes(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		root := recipetest.Root(t)
		w := recipetest.Client(t, tg.Addr)
		tree, rec := startTree(t, recipetest.Client(t, tg.Addr), root)
		if n := tree.Len(); n != 0 {
			t.Fatalf("cache of a missing root has %d nodes", n)
		}
		if _, err := w.Create(ctx, root+"/x/y", []byte("y"), framework.WithParents()); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, 0, "y created", isNode(cache.NodeCreated, root+"/x/y"))
		from := rec.len()
		if err := w.Delete(ctx, root, framework.Recursive()); err != nil {
			t.Fatal(err)
		}
		i := rec.waitFor(t, from, "root deleted", isNode(cache.NodeDeleted, root))
		if tree.Len() != 0 {
			t.Fatalf("cache after root deleted: %v", tree.Nodes())
		}
		if _, err := w.Create(ctx, root+"/z", []byte("z"), framework.WithParents()); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, i, "z created", isNode(cache.NodeCreated, root+"/z"))
		settle(t, w, root, rec, i)
		checkAgainstServer(t, w, root, tree, rec)
	})
}

// TestTreeMaxDepth: WithMaxDepth(1) caches the root and its children only.
func TestTreeMaxDepth(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		root := recipetest.Root(t)
		w := recipetest.Client(t, tg.Addr)
		if _, err := w.Create(ctx, root+"/a/deep", nil, framework.WithParents()); err != nil {
			t.Fatal(err)
		}
		tree, rec := startTree(t, recipetest.Client(t, tg.Addr), root, cache.WithMaxDepth(1))
		if _, err := w.Create(ctx, root+"/b", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Create(ctx, root+"/b/deep", nil); err != nil {
			t.Fatal(err)
		}
		settle(t, w, root, rec, 0)
		var paths []string
		for _, n := range tree.Nodes() {
			paths = append(paths, n.Path)
		}
		if want := []string{root, root + "/a", root + "/b"}; fmt.Sprint(paths) != fmt.Sprint(want) {
			t.Fatalf("cached %v, want %v", paths, want)
		}
	})
}

// TestNodeCache: a node cache reports a node's creation, changes, deletion
// and re-creation, and nothing about its children.
func TestNodeCache(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		p := recipetest.Root(t)
		w := recipetest.Client(t, tg.Addr)
		nc, err := cache.NewNodeCache(recipetest.Client(t, tg.Addr), p)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		rec := newRecorder()
		nc.Listen(rec.add)
		if err := nc.Start(); err != nil {
			t.Fatal(err)
		}
		if err := nc.AwaitInitialized(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := nc.Get(); ok {
			t.Fatal("Get of a missing node: ok")
		}
		if _, err := w.Create(ctx, p, []byte("1"), framework.WithParents()); err != nil {
			t.Fatal(err)
		}
		i := rec.waitFor(t, 0, "created", isNode(cache.NodeCreated, p))
		if _, err := w.Create(ctx, p+"/child", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Set(ctx, p, []byte("2")); err != nil {
			t.Fatal(err)
		}
		i = rec.waitFor(t, i, "changed", isNode(cache.NodeChanged, p))
		if n, ok := nc.Get(); !ok || string(n.Data) != "2" {
			t.Fatalf("Get = %q, %v; want 2", n.Data, ok)
		}
		if err := w.Delete(ctx, p, framework.Recursive()); err != nil {
			t.Fatal(err)
		}
		i = rec.waitFor(t, i, "deleted", isNode(cache.NodeDeleted, p))
		if _, err := w.Create(ctx, p, []byte("3")); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, i, "created again", isNode(cache.NodeCreated, p))
		for _, ev := range rec.snapshot() {
			if ev.Node.Path != p && ev.Node.Path != "" {
				t.Fatalf("node cache reported %v", ev)
			}
		}
	})
}

// TestBadArguments: invalid paths and options are errors, and nothing is
// created on the server.
func TestBadArguments(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		c := recipetest.Client(t, tg.Addr)
		for _, p := range []string{"", "rel", "/a/", "/a//b", "/a/../b"} {
			if _, err := cache.NewTree(c, p); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("NewTree(%q) = %v, want ErrInvalidPath", p, err)
			}
			if _, err := cache.NewNodeCache(c, p); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("NewNodeCache(%q) = %v, want ErrInvalidPath", p, err)
			}
		}
		root := recipetest.Root(t)
		if _, err := cache.NewTree(c, root, cache.WithMaxDepth(-1)); err == nil {
			t.Error("NewTree with depth -1: no error")
		}
		if _, err := cache.NewTree(nil, root); err == nil {
			t.Error("NewTree with a nil client: no error")
		}
		tree, err := cache.NewTree(c, root)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Start(); err != nil {
			t.Fatal(err)
		}
		if err := tree.Start(); !errors.Is(err, cache.ErrStarted) {
			t.Errorf("second Start = %v, want ErrStarted", err)
		}
		if err := tree.AwaitInitialized(recipetest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		_ = tree.Close()
		if err := tree.Start(); !errors.Is(err, cache.ErrClosed) {
			t.Errorf("Start after Close = %v, want ErrClosed", err)
		}
		if st, err := c.Exists(recipetest.Ctx(t), root); err != nil || st != nil {
			t.Errorf("a cache created %s (%v, %v)", root, st, err)
		}
	})
}

var _ = zk.ErrNoNode
