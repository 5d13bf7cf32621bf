package tree

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unsafe"

	"github.com/herd-io/herd/server/proto"
)

// checkInvariants verifies the indexes against the nodes.
func checkInvariants(t *testing.T, tr *Tree) {
	t.Helper()
	var size int64
	eph, cont, ttls := 0, 0, 0
	all := nodeMap(tr)
	if len(all) != tr.nodes.len() {
		t.Fatalf("the index counts %d nodes and holds %d", tr.nodes.len(), len(all))
	}
	for p, n := range all {
		size += int64(len(p) + len(n.data()))
		if tr.nodes.get(p) != n {
			t.Fatalf("%s not found by its path", p)
		}
		if p != rootPath {
			parent := tr.nodes.get(parentOf(p))
			if parent == nil {
				t.Fatalf("%s has no parent", p)
			}
			names := parent.childNames()
			if int(n.childIdx) >= len(names) || names[n.childIdx] != p[strings.LastIndexByte(p, '/')+1:] {
				t.Fatalf("%s not at its index %d among its parent's children %v", p, n.childIdx, names)
			}
			// The name is a piece of the node's own buffer, so no older
			// buffer of the node stays alive through it.
			if len(names) <= renameCopyLimit && !within(names[n.childIdx], n.buf) {
				t.Fatalf("%s: its parent names it with a string outside its buffer", p)
			}
		}
		if n.children != nil && len(*n.children) == 0 {
			t.Fatalf("%s has an empty, not nil, child list", p)
		}
		for _, name := range n.childNames() {
			child := p + "/" + name
			if p == rootPath {
				child = "/" + name
			}
			if tr.nodes.get(child) == nil {
				t.Fatalf("dangling child %s", child)
			}
		}
		switch n.kind() {
		case kindEphemeral:
			eph++
			if _, ok := tr.ephemerals[n.owner()][p]; !ok {
				t.Fatalf("%s missing from ephemerals", p)
			}
			for k := range tr.ephemerals[n.owner()] {
				if k == p && !within(k, n.buf) {
					t.Fatalf("%s: the ephemerals index keys it with a string outside its buffer", p)
				}
			}
			if n.children != nil {
				t.Fatalf("ephemeral %s has children", p)
			}
		case kindContainer:
			cont++
			if _, ok := tr.containers[p]; !ok {
				t.Fatalf("%s missing from containers", p)
			}
		case kindTTL:
			ttls++
			if _, ok := tr.ttls[p]; !ok {
				t.Fatalf("%s missing from ttls", p)
			}
		}
	}
	if size != tr.dataSize || eph != tr.EphemeralCount() || cont != len(tr.containers) || ttls != len(tr.ttls) {
		t.Fatalf("indexes out of step: size %d/%d eph %d/%d cont %d/%d ttl %d/%d",
			size, tr.dataSize, eph, tr.EphemeralCount(), cont, len(tr.containers), ttls, len(tr.ttls))
	}
}

// within reports whether s lies in buf's memory.
func within(s, buf string) bool {
	if len(s) == 0 {
		return true
	}
	p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(buf)))
	return p >= b && p+uintptr(len(s)) <= b+uintptr(len(buf))
}

// randomOp builds a write sub-op over a small path space so that successes
// and every kind of failure are common.
func randomOp(r *rand.Rand) proto.MultiOp {
	paths := []string{"/a", "/a/b", "/a/b/c", "/b", "/b/x", "/a/", "/e", "/e/x"}
	p := paths[r.Intn(len(paths))]
	v := int32(-1)
	if r.Intn(4) == 0 {
		v = int32(r.Intn(2))
	}
	switch r.Intn(5) {
	case 0, 1:
		// No sequential modes: their children would pile up on paths the
		// other ops never touch.
		mode := []proto.CreateMode{0, 0, 1, 4}[r.Intn(4)]
		if p == "/e" {
			mode = proto.ModeEphemeral
		}
		return createOp(proto.OpCreate, p, mode)
	case 2:
		return deleteOp(p, v)
	case 3:
		return setOp(p, v)
	default:
		return checkOp(p, v)
	}
}

// TestRandomMultiMatchesSequential checks, over many random transactions,
// that a successful multi equals applying its ops one by one with the same
// zxid, that a failed one changes nothing and fails where the sequential run
// first fails, and that snapshots, clones and restored trees stay identical.
func TestRandomMultiMatchesSequential(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	tr := New()
	tr.SetOptions(Options{ExtendedTypes: true})
	succeeded, failed, reaped := 0, 0, 0
	for i := 0; i < 3000; i++ {
		tx := Txn{Zxid: int64(i + 1), Time: int64(i * 7)}
		c := Caller{Session: int64(1 + r.Intn(3))}
		switch r.Intn(20) {
		case 0:
			tr.CloseSession(tx, c.Session)
			checkInvariants(t, tr)
			continue
		case 1, 2, 3:
			for _, p := range tr.ExpiredNodes(tx.Time) {
				if err := tr.DeleteContainer(tx, p); err != nil {
					t.Fatalf("reap %s: %v", p, err)
				}
				reaped++
			}
			continue
		}
		ops := make([]proto.MultiOp, 1+r.Intn(3))
		for j := range ops {
			ops[j] = randomOp(r)
		}
		seq := tr.Clone()
		seq.TakeEvents()
		failAt, failCode := -1, proto.ErrOK
		for j, op := range ops {
			if _, err := seq.multiOp(tx, c, &op); err != nil {
				failAt, failCode = j, proto.Code(err)
				break
			}
		}
		before := snapshotBytes(t, tr)
		tr.TakeEvents()
		res := tr.Multi(tx, c, ops)
		ev := tr.TakeEvents()
		checkInvariants(t, tr)
		if failAt >= 0 {
			if res[failAt].Err != failCode || !bytes.Equal(before, snapshotBytes(t, tr)) || len(ev) != 0 {
				t.Fatalf("txn %d %v: failed multi %+v, sequential failed at %d with %d", i, describe(ops), res, failAt, failCode)
			}
			failed++
			continue
		}
		if !bytes.Equal(snapshotBytes(t, seq), snapshotBytes(t, tr)) {
			t.Fatalf("txn %d %v: multi differs from sequential apply", i, describe(ops))
		}
		if seqEv := seq.TakeEvents(); fmt.Sprint(seqEv) != fmt.Sprint(ev) {
			t.Fatalf("txn %d: events %v vs sequential %v", i, ev, seqEv)
		}
		succeeded++
		if i%500 == 0 {
			back, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, tr)))
			if err != nil {
				t.Fatal(err)
			}
			back.SetOptions(tr.Options())
			checkInvariants(t, back)
			tr = back
		}
	}
	if succeeded < 200 || failed < 300 || reaped == 0 {
		t.Fatalf("weak coverage: %d succeeded, %d failed, %d reaped", succeeded, failed, reaped)
	}
	t.Logf("%d multis succeeded, %d failed, %d nodes reaped", succeeded, failed, reaped)
}

func describe(ops []proto.MultiOp) string {
	s := ""
	for _, op := range ops {
		switch {
		case op.Create != nil:
			s += fmt.Sprintf(" create(%s,%d)", op.Create.Path, op.Create.Flags)
		case op.Delete != nil:
			s += fmt.Sprintf(" delete(%s,%d)", op.Delete.Path, op.Delete.Version)
		case op.SetData != nil:
			s += fmt.Sprintf(" set(%s,%d)", op.SetData.Path, op.SetData.Version)
		case op.Check != nil:
			s += fmt.Sprintf(" check(%s,%d)", op.Check.Path, op.Check.Version)
		}
	}
	return s
}
