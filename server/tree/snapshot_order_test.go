package tree

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// encodeInOrder writes tr in the version 1 snapshot format with its nodes in the given
// path order (paths may repeat), each with its own ACL table entry: what a
// foreign or damaged writer might produce, where WriteSnapshot always sorts.
func encodeInOrder(tr *Tree, paths []string) []byte {
	return encodeOrder(tr, paths, snapshotMagicV1, nil)
}

// encodeOrder writes the snapshot of tr's nodes at paths, in that order,
// under magic; tail, when set, appends what a version adds to each node.
func encodeOrder(tr *Tree, paths []string, magic string, tail func(buf []byte, p string) []byte) []byte {
	buf := []byte(magic)
	buf = binary.AppendUvarint(buf, uint64(len(paths)))
	for _, p := range paths {
		buf = appendACL(buf, tr.nodes.get(p).acls())
	}
	buf = binary.AppendUvarint(buf, uint64(len(paths)))
	for i, p := range paths {
		n := tr.nodes.get(p)
		buf = appendString(buf, p)
		if n.data() == nil {
			buf = binary.AppendUvarint(buf, 0)
		} else {
			buf = binary.AppendUvarint(buf, uint64(len(n.data()))+1)
			buf = append(buf, n.data()...)
		}
		buf = binary.AppendUvarint(buf, uint64(i))
		for _, v := range [...]int64{n.czxid, n.mzxid, n.ctime, n.mtime, n.pzxid,
			int64(n.version), int64(n.cversion), int64(n.aversion)} {
			buf = binary.AppendVarint(buf, v)
		}
		buf = append(buf, byte(n.kind()))
		buf = binary.AppendVarint(buf, n.owner())
		if tail != nil {
			buf = tail(buf, p)
		}
	}
	return buf
}

// parentsFirst orders paths by depth, then in reverse: parents before
// children, but never in WriteSnapshot's sorted order.
func parentsFirst(tr *Tree) []string {
	var paths []string
	for p := range nodeMap(tr) {
		paths = append(paths, p)
	}
	slices.SortFunc(paths, func(a, b string) int {
		if d := strings.Count(a, "/") - strings.Count(b, "/"); d != 0 && a != rootPath && b != rootPath {
			return d
		}
		switch {
		case a == rootPath:
			return -1
		case b == rootPath:
			return 1
		}
		return strings.Compare(b, a)
	})
	return paths
}

// The decoder's shortcuts for sorted input (no duplicate lookup above the
// greatest path so far, parent from the previous node) must not change what
// it accepts: any parents-first order restores the same tree.
func TestReadSnapshotAnyParentsFirstOrder(t *testing.T) {
	tr := sampleTree(t)
	order := parentsFirst(tr)
	back, err := ReadSnapshot(bytes.NewReader(encodeInOrder(tr, order)))
	if err != nil {
		t.Fatalf("order %v: %v", order, err)
	}
	equalTrees(t, tr, back)
	if !bytes.Equal(snapshotBytes(t, tr), snapshotBytes(t, back)) {
		t.Fatal("re-written snapshot differs")
	}
}

func TestReadSnapshotRejectsDuplicatesAndOrphans(t *testing.T) {
	tr := sampleTree(t)
	for name, order := range map[string][]string{
		"adjacent duplicate":     {rootPath, "/a", "/a"},
		"duplicate after a dip":  {rootPath, "/t", "/a", "/t"},
		"duplicate of the first": {rootPath, "/a", rootPath},
		"child before parent":    {rootPath, "/a/n", "/a"},
		"no root":                {"/a"},
	} {
		_, err := ReadSnapshot(bytes.NewReader(encodeInOrder(tr, order)))
		if !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s %v: err %v, want ErrBadSnapshot", name, order, err)
		}
	}
}
