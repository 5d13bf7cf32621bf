package tree

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// sampleTree builds a tree with every kind of node and field.
func sampleTree(t *testing.T) *Tree {
	t.Helper()
	tr, ck := New(), &clock{}
	tr.SetOptions(Options{ExtendedTypes: true})
	dig := []proto.ACL{acl(31, "digest", DigestID("u:p")), acl(1, "ip", "10.0.0.0/8")}
	owner := Caller{Session: 42, Ids: []proto.Id{{Scheme: "digest", ID: DigestID("u:p")}}}
	steps := []struct {
		op   proto.OpCode
		path string
		data []byte
		acl  []proto.ACL
		mode proto.CreateMode
		ttl  int64
	}{
		{proto.OpCreate, "/a", []byte("x"), open, 0, 0},
		{proto.OpCreate, "/a/n", nil, open, 0, 0},
		{proto.OpCreate, "/a/e", []byte{}, dig, proto.ModeEphemeral, 0},
		{proto.OpCreate, "/a/s", []byte("seq"), open, proto.ModePersistentSequential, 0},
		{proto.OpCreateContainer, "/c", nil, open, proto.ModeContainer, 0},
		{proto.OpCreate, "/c/k", nil, dig, 0, 0},
		{proto.OpCreateTTL, "/t", []byte("ttl"), open, proto.ModePersistentWithTTL, 5000},
		{proto.OpCreate, "/zookeeper/quota/q", []byte("count=1"), open, 0, 0},
	}
	for _, s := range steps {
		if _, _, err := tr.Create(ck.next(), owner, s.op, s.path, s.data, s.acl, s.mode, s.ttl); err != nil {
			t.Fatal(s.path, err)
		}
	}
	if err := tr.Delete(ck.next(), owner, "/c/k", -1); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.SetData(ck.next(), owner, "/a", []byte("y"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.SetACL(ck.next(), owner, "/a", dig, -1); err != nil {
		t.Fatal(err)
	}
	tr.TakeEvents()
	return tr
}

// equalTrees compares every stored field, index and counter.
func equalTrees(t *testing.T, a, b *Tree) {
	t.Helper()
	if a.nodes.len() != b.nodes.len() {
		t.Fatalf("%d vs %d nodes", a.nodes.len(), b.nodes.len())
	}
	for p, n := range nodeMap(a) {
		m := b.nodes.get(p)
		if m == nil {
			t.Fatalf("%s missing", p)
		}
		if (n.data() == nil) != (m.data() == nil) {
			t.Fatalf("%s: null data not preserved", p)
		}
		// buf and meta compare as values: path, data, owner, kind.
		nc, mc := *n, *m
		// Children are a set kept in no particular order.
		nc.children, mc.children, nc.childIdx, mc.childIdx = nil, nil, 0, 0
		if !reflect.DeepEqual(sortedNames(n.childNames()), sortedNames(m.childNames())) {
			t.Fatalf("%s: children %v vs %v", p, n.childNames(), m.childNames())
		}
		if !bytes.Equal(n.data(), m.data()) || !reflect.DeepEqual(nc, mc) {
			t.Fatalf("%s: %+v vs %+v", p, *n, *m)
		}
	}
	if !reflect.DeepEqual(a.ephemerals, b.ephemerals) || !reflect.DeepEqual(a.containers, b.containers) ||
		!reflect.DeepEqual(a.ttls, b.ttls) || a.dataSize != b.dataSize {
		t.Fatal("indexes differ")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	tr := sampleTree(t)
	first := snapshotBytes(t, tr)
	back, err := ReadSnapshot(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	equalTrees(t, tr, back)
	if again := snapshotBytes(t, back); !bytes.Equal(first, again) {
		t.Fatal("re-written snapshot differs")
	}
	// The restored tree behaves the same: sequence counters and stats carry over.
	back.SetOptions(Options{ExtendedTypes: true})
	for _, x := range []*Tree{tr, back} {
		p, _, err := x.Create(Txn{Zxid: 100, Time: 100}, Caller{Super: true}, proto.OpCreate, "/a/s", nil, open, proto.ModePersistentSequential, 0)
		if err != nil || p != "/a/s0000000003" {
			t.Fatalf("%s %v", p, err)
		}
		x.CloseSession(Txn{Zxid: 101, Time: 101}, 42)
		if got := x.ExpiredNodes(1 << 40); !reflect.DeepEqual(got, []string{"/c", "/t"}) {
			t.Fatalf("expired %v", got)
		}
	}
	if !bytes.Equal(snapshotBytes(t, tr), snapshotBytes(t, back)) {
		t.Fatal("trees diverged after the same writes")
	}
}

func TestSnapshotDeterministicAcrossHistory(t *testing.T) {
	// Equal contents reached by different histories (and different ACL slice
	// sharing) must encode to the same bytes.
	a, b := New(), New()
	lst := func() []proto.ACL { return []proto.ACL{acl(1, "world", "anyone"), acl(31, "ip", "1.2.3.4")} }
	for i := 0; i < 20; i++ {
		p := fmt.Sprintf("/n%02d", i)
		if _, _, err := a.Create(Txn{Zxid: 1, Time: 1}, anyone, proto.OpCreate, p, nil, lst(), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	shared := lst()
	for i := 19; i >= 0; i-- {
		p := fmt.Sprintf("/n%02d", i)
		if _, _, err := b.Create(Txn{Zxid: 1, Time: 1}, anyone, proto.OpCreate, p, nil, shared, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	// b's root saw the same number of creations, so stats agree too.
	if !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, b)) {
		t.Fatal("equal trees encode differently")
	}
}

func TestReadSnapshotRejectsGarbage(t *testing.T) {
	good := snapshotBytes(t, sampleTree(t))
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     []byte("NOPE\x01"),
		"truncated": good[:len(good)-3],
		"cut early": good[:20],
	}
	for name, b := range cases {
		if _, err := ReadSnapshot(bytes.NewReader(b)); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Flipping bytes must never panic.
	for i := len(snapshotMagic); i < len(good); i++ {
		b := append([]byte(nil), good...)
		b[i] ^= 0xff
		_, _ = ReadSnapshot(bytes.NewReader(b))
	}
}

func TestClone(t *testing.T) {
	tr := sampleTree(t)
	c := tr.Clone()
	equalTrees(t, tr, c)
	if !bytes.Equal(snapshotBytes(t, tr), snapshotBytes(t, c)) {
		t.Fatal("clone encodes differently")
	}
	// Writes to the clone do not reach the original.
	before := snapshotBytes(t, tr)
	ck := &clock{zxid: 100}
	mustCreate(t, c, ck, Caller{Super: true}, "/a/new", 0)
	if _, err := c.SetData(ck.next(), Caller{Super: true}, "/a", []byte("changed"), -1); err != nil {
		t.Fatal(err)
	}
	c.CloseSession(ck.next(), 42)
	if !bytes.Equal(before, snapshotBytes(t, tr)) {
		t.Fatal("clone shares state with the original")
	}
}

// TestCloneCopyOnWrite mutates both sides of a clone (and a clone of the
// clone) and checks that each ends exactly like an unshared tree that got the
// same writes.
func TestCloneCopyOnWrite(t *testing.T) {
	tr := sampleTree(t)
	orig := snapshotBytes(t, tr)
	super := Caller{Super: true}
	c1 := tr.Clone()
	c2 := c1.Clone()
	writes := []func(x *Tree){
		func(x *Tree) { // original: a child under the shared /a
			if _, _, err := x.Create(Txn{Zxid: 101, Time: 1}, super, proto.OpCreate, "/a/x", nil, open, 0, 0); err != nil {
				t.Fatal(err)
			}
		},
		func(x *Tree) { // first clone: new data on /a
			if _, err := x.SetData(Txn{Zxid: 102, Time: 2}, super, "/a", []byte("c1"), -1); err != nil {
				t.Fatal(err)
			}
		},
		func(x *Tree) { // second clone: a delete under /a and an ACL change
			if err := x.Delete(Txn{Zxid: 103, Time: 3}, super, "/a/n", -1); err != nil {
				t.Fatal(err)
			}
			if _, err := x.SetACL(Txn{Zxid: 104, Time: 4}, super, "/c", open, -1); err != nil {
				t.Fatal(err)
			}
		},
	}
	for i, x := range []*Tree{tr, c1, c2} {
		writes[i](x)
	}
	for i, x := range []*Tree{tr, c1, c2} {
		checkInvariants(t, x)
		fresh, err := ReadSnapshot(bytes.NewReader(orig))
		if err != nil {
			t.Fatal(err)
		}
		writes[i](fresh)
		if !bytes.Equal(snapshotBytes(t, x), snapshotBytes(t, fresh)) {
			t.Fatalf("tree %d does not match an unshared tree with the same writes", i)
		}
	}
}

// snapshotWriter is what a snapshot is written from: a Clone or a Frozen.
type snapshotWriter interface{ WriteSnapshot(io.Writer) error }

// TestConcurrentSnapshot writes a snapshot taken by Clone, and one taken by
// Freeze (the state machine's path), on another goroutine while the
// original applies setData, creates, deletes and a session close (run with
// -race): the bytes are those of the moment it was taken, and writing it
// again gives them again.
func TestConcurrentSnapshot(t *testing.T) {
	for name, take := range map[string]func(*Tree) snapshotWriter{
		"clone":  func(tr *Tree) snapshotWriter { return tr.Clone() },
		"freeze": func(tr *Tree) snapshotWriter { return tr.Freeze() },
	} {
		t.Run(name, func(t *testing.T) {
			tr := sampleTree(t)
			ck := &clock{zxid: 1000, time: 1000}
			for i := 0; i < 200; i++ {
				mustCreate(t, tr, ck, anyone, fmt.Sprintf("/n%03d", i), 0)
			}
			want := snapshotBytes(t, tr)
			snap := take(tr)
			done := make(chan []byte)
			go func() {
				var b bytes.Buffer
				if err := snap.WriteSnapshot(&b); err != nil {
					panic(err)
				}
				done <- b.Bytes()
			}()
			for i := 0; i < 200; i++ {
				p := fmt.Sprintf("/n%03d", i)
				if _, err := tr.SetData(ck.next(), anyone, p, []byte("changed"), -1); err != nil {
					t.Fatal(err)
				}
				mustCreate(t, tr, ck, anyone, p+"/kid", 0)
				if i%2 == 0 {
					if err := tr.Delete(ck.next(), anyone, p+"/kid", -1); err != nil {
						t.Fatal(err)
					}
				}
			}
			tr.CloseSession(ck.next(), 42)
			if got := <-done; !bytes.Equal(got, want) {
				t.Fatal("the snapshot saw later writes")
			}
			var again bytes.Buffer
			if err := snap.WriteSnapshot(&again); err != nil || !bytes.Equal(again.Bytes(), want) {
				t.Fatalf("a second write of the snapshot differs (%v)", err)
			}
			checkInvariants(t, tr)
		})
	}
}

// TestReadSnapshotStopsAtItsEnd lets a caller embed the tree in a larger
// stream: with a bufio.Reader, ReadSnapshot consumes only its own bytes.
func TestReadSnapshotStopsAtItsEnd(t *testing.T) {
	var b bytes.Buffer
	if err := sampleTree(t).WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	b.WriteString("trailer")
	br := bufio.NewReader(&b)
	if _, err := ReadSnapshot(br); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "trailer" {
		t.Fatalf("after the snapshot: %q", rest)
	}
}
