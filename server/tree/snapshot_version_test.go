package tree

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// TestReadSnapshotVersion1 restores a snapshot written before child counts
// (testdata/snapshot-v1.bin is sampleTree as version 1 wrote it): the same
// tree comes back, and it is written again as version 2.
func TestReadSnapshotVersion1(t *testing.T) {
	old, err := os.ReadFile("testdata/snapshot-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(old, []byte(snapshotMagicV1)) {
		t.Fatal("fixture is not version 1")
	}
	back, err := ReadSnapshot(bytes.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	want := sampleTree(t)
	equalTrees(t, want, back)
	checkInvariants(t, back)
	if got := snapshotBytes(t, back); !bytes.HasPrefix(got, []byte(snapshotMagic)) || !bytes.Equal(got, snapshotBytes(t, want)) {
		t.Fatal("a restored version 1 snapshot is not re-written as version 2")
	}
}

// restoreTree has what a restore must carry over, in numbers that span many
// path and data chunks: a parent of many children, null, empty, large and
// chunk-sized data, a path too long for a chunk, ephemerals of two sessions,
// containers, TTL nodes, several ACLs and a quota'd subtree.
func restoreTree(t *testing.T) *Tree {
	t.Helper()
	tr, ck := New(), &clock{}
	tr.SetOptions(Options{ExtendedTypes: true})
	super := Caller{Super: true}
	dig := []proto.ACL{acl(31, "digest", DigestID("u:p")), acl(1, "ip", "10.0.0.0/8")}
	create := func(c Caller, op proto.OpCode, path string, data []byte, a []proto.ACL, mode proto.CreateMode, ttl int64) {
		t.Helper()
		if _, _, err := tr.Create(ck.next(), c, op, path, data, a, mode, ttl); err != nil {
			t.Fatal(path, err)
		}
	}
	create(super, proto.OpCreate, "/big", nil, open, 0, 0)
	setQuota(t, tr, ck, "/big", "count=100000,bytes=-1")
	value := bytes.Repeat([]byte("v"), 100)
	for i := range 5000 {
		var data []byte
		switch i % 4 {
		case 0:
			data = value
		case 1:
			data = []byte{}
		case 2: // null
		case 3:
			data = []byte(fmt.Sprint(i))
		}
		mode, c := proto.CreateMode(0), super
		if i%10 == 0 {
			mode, c = proto.ModeEphemeral, Caller{Session: int64(1 + i%20%2)}
		}
		a := open
		if i%7 == 0 {
			a = dig
		}
		create(c, proto.OpCreate, fmt.Sprintf("/big/c%07d", i), data, a, mode, 0)
	}
	create(super, proto.OpCreate, "/large", bytes.Repeat([]byte{1, 2, 3}, 300<<10), open, 0, 0)
	create(super, proto.OpCreate, "/chunk", bytes.Repeat([]byte{9}, chunkSize/8), open, 0, 0)
	create(super, proto.OpCreate, "/"+strings.Repeat("p", chunkSize/8+1), []byte("long path"), open, 0, 0)
	create(super, proto.OpCreateContainer, "/box", nil, open, proto.ModeContainer, 0)
	create(super, proto.OpCreate, "/box/k", nil, open, 0, 0)
	create(super, proto.OpCreateTTL, "/ttl", []byte("t"), open, proto.ModePersistentWithTTL, 5000)
	tr.TakeEvents()
	return tr
}

func TestSnapshotRoundTripBigTree(t *testing.T) {
	tr := restoreTree(t)
	first := snapshotBytes(t, tr)
	back, err := ReadSnapshot(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	equalTrees(t, tr, back)
	checkInvariants(t, back)
	if !bytes.Equal(first, snapshotBytes(t, back)) {
		t.Fatal("re-written snapshot differs")
	}
	back.SetOptions(tr.Options())
	// Restored data shares chunks: no piece may reach into its neighbour.
	for p, n := range nodeMap(back) {
		if cap(n.data()) != len(n.data()) {
			t.Fatalf("%s: data of length %d has capacity %d", p, len(n.data()), cap(n.data()))
		}
	}
	// Both trees go on alike: writes, a session's ephemerals, quota stats.
	for _, x := range []*Tree{tr, back} {
		tx := Txn{Zxid: 1 << 20, Time: 1 << 20}
		if _, err := x.SetData(tx, Caller{Super: true}, "/big/c0000003", []byte("new"), -1); err != nil {
			t.Fatal(err)
		}
		if err := x.Delete(tx, Caller{Super: true}, "/big/c0000005", -1); err != nil {
			t.Fatal(err)
		}
		x.CloseSession(tx, 1)
		if _, _, err := x.Create(tx, Caller{Super: true}, proto.OpCreate, "/big/c0000005", []byte("again"), open, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if d, _, _ := back.GetData(anyone, "/big/c0000004"); !bytes.Equal(d, bytes.Repeat([]byte("v"), 100)) {
		t.Fatalf("neighbour of a rewritten node: %q", d)
	}
	if quotaStats(t, tr, "/big") != quotaStats(t, back, "/big") {
		t.Fatalf("quota stats %s vs %s", quotaStats(t, tr, "/big"), quotaStats(t, back, "/big"))
	}
	if !bytes.Equal(snapshotBytes(t, tr), snapshotBytes(t, back)) {
		t.Fatal("trees diverged after the same writes")
	}
}

// TestReadSnapshotChildCounts: version 2's child counts are checked against
// the nodes that follow, and one claiming more children than the snapshot
// holds nodes allocates nothing for them.
func TestReadSnapshotChildCounts(t *testing.T) {
	tr := sampleTree(t)
	order := parentsFirst(tr)
	good := encodeOrderV2(tr, order, nil)
	back, err := ReadSnapshot(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	equalTrees(t, tr, back)
	for name, counts := range map[string]map[string]uint64{
		"too few":  {"/a": 1},
		"too many": {"/a": 4},
		"leaf":     {"/t": 1},
		"huge":     {rootPath: 1 << 40},
	} {
		_, err := ReadSnapshot(bytes.NewReader(encodeOrderV2(tr, order, counts)))
		if !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: err %v, want ErrBadSnapshot", name, err)
		}
	}
}

// encodeOrderV2 is encodeInOrder in version 2, with the child counts in
// override replacing the true ones.
func encodeOrderV2(tr *Tree, paths []string, override map[string]uint64) []byte {
	return encodeOrder(tr, paths, snapshotMagic, func(buf []byte, p string) []byte {
		c, ok := override[p]
		if !ok {
			c = uint64(len(tr.nodes.get(p).childNames()))
		}
		return binary.AppendUvarint(buf, c)
	})
}
