package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

func indexNode(path string) *node { return newNode(path, nil, kindPersistent, 0) }

// checkIndex compares x with want, the paths it should hold.
func checkIndex(t *testing.T, x *pathIndex, want map[string]*node) {
	t.Helper()
	if x.len() != len(want) {
		t.Fatalf("len %d, want %d", x.len(), len(want))
	}
	seen := 0
	x.all(func(n *node) bool {
		if want[n.path()] != n {
			t.Fatalf("all yields %s, which is not in the index", n.path())
		}
		seen++
		return true
	})
	if seen != len(want) {
		t.Fatalf("all yields %d nodes, want %d", seen, len(want))
	}
	for p, n := range want {
		if got := x.get(p); got != n {
			t.Fatalf("get(%q) = %p, want %p", p, got, n)
		}
	}
	// Every table stays under its load limit and knows its counts.
	for i, tb := range x.dir {
		if i > 0 && x.dir[i-1] == tb {
			continue
		}
		full, used := 0, 0
		for _, g := range tb.tags {
			if g != tagEmpty {
				used++
			}
			if g >= tagFull {
				full++
			}
		}
		if full != tb.count || used != tb.used || used*4 > len(tb.nodes)*3 {
			t.Fatalf("table %d: %d full (counted %d), %d used (counted %d) of %d slots", i, full, tb.count, used, tb.used, len(tb.nodes))
		}
	}
}

// TestPathIndexAgainstAMap drives the index through inserts, replacements
// and deletes past several splits, checking it against a map, and checks
// that a clone is independent of its original.
func TestPathIndexAgainstAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := newPathIndex(0)
	want := map[string]*node{}
	var clone pathIndex
	var cloneWant map[string]*node
	const space = 40000 // paths drawn from here: about 10 full tables
	for step := range 200000 {
		p := fmt.Sprintf("/d%d/n%d", rng.IntN(50), rng.IntN(space/50))
		switch rng.IntN(4) {
		case 0, 1:
			n := indexNode(p)
			x.set(n)
			want[p] = n
		case 2:
			x.del(p)
			delete(want, p)
		case 3:
			if x.get(p) != want[p] {
				t.Fatalf("step %d: get(%q) differs from the map", step, p)
			}
		}
		if step == 100000 {
			checkIndex(t, &x, want)
			clone = x.clone()
			cloneWant = make(map[string]*node, len(want))
			for k, v := range want {
				cloneWant[k] = v
			}
		}
	}
	checkIndex(t, &x, want)
	checkIndex(t, &clone, cloneWant)
	if x.depth == 0 {
		t.Fatal("the index never split; the test does not reach splits")
	}
	// Deleting everything leaves an empty index that still works.
	for p := range want {
		x.del(p)
	}
	checkIndex(t, &x, map[string]*node{})
	n := indexNode("/again")
	x.set(n)
	checkIndex(t, &x, map[string]*node{"/again": n})
}

// TestPathIndexChurn: creating and deleting the same few paths forever
// (a lock's queue) rebuilds tables instead of filling them with tombstones.
func TestPathIndexChurn(t *testing.T) {
	x := newPathIndex(0)
	want := map[string]*node{}
	for i := range 100000 {
		p := fmt.Sprintf("/lock/n%010d", i)
		n := indexNode(p)
		x.set(n)
		want[p] = n
		if i >= 3 {
			old := fmt.Sprintf("/lock/n%010d", i-3)
			x.del(old)
			delete(want, old)
		}
	}
	checkIndex(t, &x, want)
	if len(x.dir) != 1 || len(x.dir[0].nodes) > 64 {
		t.Fatalf("3 live paths take %d tables and %d slots", len(x.dir), len(x.dir[0].nodes))
	}
}

// TestSetDataMovesNames: after setData the parent's child name and the
// ephemerals index point into the node's new buffer, so the old one can be
// freed, and a rolled-back multi points them back.
func TestSetDataMovesNames(t *testing.T) {
	tr := New()
	var ck clock
	owner := Caller{Session: 7}
	if _, _, err := tr.Create(ck.next(), owner, proto.OpCreate, "/p", nil, proto.OpenACLUnsafe, proto.ModePersistent, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.Create(ck.next(), owner, proto.OpCreate, "/p/e", []byte("old"), proto.OpenACLUnsafe, proto.ModeEphemeral, 0); err != nil {
		t.Fatal(err)
	}
	check := func(data string) {
		t.Helper()
		n := tr.nodes.get("/p/e")
		if string(n.data()) != data || n.owner() != 7 || n.kind() != kindEphemeral {
			t.Fatalf("node holds %q, owner %d, kind %d", n.data(), n.owner(), n.kind())
		}
		checkInvariants(t, tr)
	}
	check("old")
	// A snapshot's clone shares the nodes: the write copies the node and
	// its parent, and the clone keeps the old names.
	snap := tr.Clone()
	if _, err := tr.SetData(ck.next(), owner, "/p/e", []byte("newer data"), -1); err != nil {
		t.Fatal(err)
	}
	check("newer data")
	checkInvariants(t, snap)
	if got, _, _ := snap.GetData(owner, "/p/e"); string(got) != "old" {
		t.Fatalf("the clone sees %q", got)
	}
	// A multi whose second op fails rolls the setData back.
	res := tr.Multi(ck.next(), owner, []proto.MultiOp{
		{Op: proto.OpSetData, SetData: &proto.SetDataRequest{Path: "/p/e", Data: []byte("rolled back"), Version: -1}},
		{Op: proto.OpDelete, Delete: &proto.DeleteRequest{Path: "/missing", Version: -1}},
	})
	if res[1].Err != proto.ErrNoNode {
		t.Fatalf("multi results %+v", res)
	}
	check("newer data")
}

// TestSetDataUnderAWideParentAfterFreeze: under a parent of more than
// renameCopyLimit children, the first setData after a snapshot does not copy
// the parent's child list (it keeps the old name); once a create has made
// the parent this tree's own, setData moves the name again.
func TestSetDataUnderAWideParentAfterFreeze(t *testing.T) {
	tr := New()
	var ck clock
	mustCreate(t, tr, &ck, anyone, "/w", 0)
	for i := range renameCopyLimit + 10 {
		mustCreate(t, tr, &ck, anyone, fmt.Sprintf("/w/c%05d", i), 0)
	}
	frozen := tr.Freeze()
	if _, err := tr.SetData(ck.next(), anyone, "/w/c00003", []byte("after"), -1); err != nil {
		t.Fatal(err)
	}
	if tr.nodes.get("/w").gen == tr.gen {
		t.Fatal("setData copied the wide parent")
	}
	if got, _, _ := tr.GetData(anyone, "/w/c00003"); string(got) != "after" {
		t.Fatalf("data %q", got)
	}
	checkInvariants(t, tr)
	mustCreate(t, tr, &ck, anyone, "/w/new", 0)
	if _, err := tr.SetData(ck.next(), anyone, "/w/c00003", []byte("again"), -1); err != nil {
		t.Fatal(err)
	}
	n := tr.nodes.get("/w/c00003")
	if !within((*tr.nodes.get("/w").children)[n.childIdx], n.buf) {
		t.Fatal("the name did not move to the new buffer once the parent was the tree's own")
	}
	var b bytes.Buffer
	if err := frozen.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSnapshot(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := back.GetData(anyone, "/w/c00003"); string(got) != "d" || back.nodes.get("/w/new") != nil {
		t.Fatalf("the frozen tree saw later writes: %q", got)
	}
}
