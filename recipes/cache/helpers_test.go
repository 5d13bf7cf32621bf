package cache_test

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/cache"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// recorder keeps every event a listener received.
type recorder struct {
	mu     sync.Mutex
	events []cache.Event
	signal chan struct{} // closed and replaced on every event
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{})} }

func (r *recorder) add(ev cache.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	close(r.signal)
	r.signal = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) snapshot() []cache.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cache.Event(nil), r.events...)
}

// waitFor waits for the first event at index >= from that matches and
// returns its index.
func (r *recorder) waitFor(t testing.TB, from int, what string, match func(cache.Event) bool) int {
	t.Helper()
	timer := time.NewTimer(recipetest.Wait)
	defer timer.Stop()
	for {
		r.mu.Lock()
		for i := from; i < len(r.events); i++ {
			if match(r.events[i]) {
				r.mu.Unlock()
				return i
			}
		}
		from = max(from, len(r.events))
		sig := r.signal
		r.mu.Unlock()
		select {
		case <-sig:
		case <-timer.C:
			t.Fatalf("timed out waiting for %s; events: %v", what, r.snapshot())
		}
	}
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func isType(typ cache.EventType) func(cache.Event) bool {
	return func(ev cache.Event) bool { return ev.Type == typ }
}

func isNode(typ cache.EventType, path string) func(cache.Event) bool {
	return func(ev cache.Event) bool { return ev.Type == typ && ev.Node.Path == path }
}

// model is the tree as the events describe it. apply checks that each event
// is possible in the model: what is created was absent and has its parent,
// what changes or is deleted was present, a deleted node has no children,
// and a node's mzxid only grows.
type model map[string]cache.Node

func (m model) apply(t testing.TB, root string, ev cache.Event) {
	t.Helper()
	p := ev.Node.Path
	old, present := m[p]
	switch ev.Type {
	case cache.NodeCreated:
		if present {
			t.Fatalf("%v: node already present", ev)
		}
		if parent, _ := framework.SplitPath(p); p != root {
			if _, ok := m[parent]; !ok {
				t.Fatalf("%v: parent %s absent", ev, parent)
			}
		}
		m[p] = ev.Node
	case cache.NodeChanged:
		if !present {
			t.Fatalf("%v: node absent", ev)
		}
		if ev.Node.Stat.Mzxid <= old.Stat.Mzxid {
			t.Fatalf("%v: mzxid %#x not after %#x", ev, ev.Node.Stat.Mzxid, old.Stat.Mzxid)
		}
		m[p] = ev.Node
	case cache.NodeDeleted:
		if !present {
			t.Fatalf("%v: node absent", ev)
		}
		for q := range m {
			if strings.HasPrefix(q, p+"/") || (p == "/" && q != "/") {
				t.Fatalf("%v: child %s still present", ev, q)
			}
		}
		delete(m, p)
	}
}

// replay builds the model from events and checks their zxid order: the sort
// keys of creations (czxid) and changes (mzxid) never go down.
func replay(t testing.TB, root string, evs []cache.Event) model {
	t.Helper()
	m := model{}
	var last int64
	var lastEv cache.Event
	for _, ev := range evs {
		m.apply(t, root, ev)
		var key int64
		switch ev.Type {
		case cache.NodeCreated:
			key = ev.Node.Stat.Czxid
		case cache.NodeChanged:
			key = ev.Node.Stat.Mzxid
		default:
			continue
		}
		if key < last {
			t.Fatalf("event %v (zxid %#x) after %v (zxid %#x): not in zxid order", ev, key, lastEv, last)
		}
		last, lastEv = key, ev
	}
	return m
}

// actual reads the subtree at root from the server.
func actual(t testing.TB, c *framework.Client, root string) model {
	t.Helper()
	ctx := recipetest.Ctx(t)
	m := model{}
	var walk func(p string)
	walk = func(p string) {
		data, st, err := c.Get(ctx, p)
		if err != nil {
			t.Fatalf("get %s: %v", p, err)
		}
		m[p] = cache.Node{Path: p, Data: data, Stat: *st}
		kids, _, err := c.Children(ctx, p)
		if err != nil {
			t.Fatalf("children %s: %v", p, err)
		}
		for _, k := range kids {
			walk(framework.JoinPath(p, k))
		}
	}
	walk(root)
	return m
}

// sameTree compares two trees by path, data, czxid and mzxid.
func sameTree(a, b model) error {
	var diffs []string
	for p, n := range a {
		o, ok := b[p]
		switch {
		case !ok:
			diffs = append(diffs, "only in first: "+p)
		case !bytes.Equal(n.Data, o.Data) || n.Stat.Czxid != o.Stat.Czxid || n.Stat.Mzxid != o.Stat.Mzxid:
			diffs = append(diffs, fmt.Sprintf("%s: %q czxid %#x mzxid %#x vs %q czxid %#x mzxid %#x",
				p, n.Data, n.Stat.Czxid, n.Stat.Mzxid, o.Data, o.Stat.Czxid, o.Stat.Mzxid))
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			diffs = append(diffs, "only in second: "+p)
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Strings(diffs)
	return fmt.Errorf("trees differ:\n%s", strings.Join(diffs, "\n"))
}

func fromNodes(ns []cache.Node) model {
	m := model{}
	for _, n := range ns {
		m[n.Path] = n
	}
	return m
}
