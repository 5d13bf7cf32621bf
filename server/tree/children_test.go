package tree

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// TestChildListDeleteMovesLastName: deleting a child moves the last name
// into its place; a clone sharing the nodes keeps its own list and indexes,
// and a rolled-back multi puts the list back exactly.
func TestChildListDeleteMovesLastName(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/p", 0)
	var want []string
	for i := range 10 {
		p := fmt.Sprintf("/p/c%d", i)
		mustCreate(t, tr, ck, anyone, p, 0)
		want = append(want, fmt.Sprintf("c%d", i))
	}
	frozen := tr.Clone()
	before := snapshotBytes(t, frozen)
	super := Caller{Super: true}
	if err := tr.Delete(ck.next(), super, "/p/c0", -1); err != nil {
		t.Fatal(err)
	}
	if got := *tr.nodes.get("/p").children; got[0] != "c9" || len(got) != 9 {
		t.Fatalf("after deleting the first: %v", got)
	}
	checkInvariants(t, tr)
	checkInvariants(t, frozen)
	if !bytes.Equal(before, snapshotBytes(t, frozen)) {
		t.Fatal("the clone saw the delete")
	}
	if kids, _, _ := frozen.GetChildren(anyone, "/p"); !reflect.DeepEqual(kids, want) {
		t.Fatalf("clone's children %v", kids)
	}

	// A multi that deletes two children, creates one, then fails.
	list := append([]string(nil), *tr.nodes.get("/p").children...)
	mid := snapshotBytes(t, tr)
	res := tr.Multi(ck.next(), super, []proto.MultiOp{
		deleteOp("/p/c3", -1), deleteOp("/p/c9", -1), createOp(proto.OpCreate, "/p/new", 0),
		deleteOp("/p/missing", -1),
	})
	if res[len(res)-1].Err == 0 {
		t.Fatalf("multi did not fail: %v", res)
	}
	if got := *tr.nodes.get("/p").children; !reflect.DeepEqual(got, list) {
		t.Fatalf("after rollback %v, was %v", got, list)
	}
	checkInvariants(t, tr)
	if !bytes.Equal(mid, snapshotBytes(t, tr)) {
		t.Fatal("rollback left the tree changed")
	}
	// Delete every child, in an order that moves names around.
	for _, i := range []int{5, 1, 9, 8, 2, 7, 3, 4, 6} {
		if err := tr.Delete(ck.next(), super, fmt.Sprintf("/p/c%d", i), -1); err != nil {
			t.Fatal(i, err)
		}
		checkInvariants(t, tr)
	}
	if tr.nodes.get("/p").children != nil {
		t.Fatal("an emptied parent keeps a child list")
	}
}
