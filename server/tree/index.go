package tree

import (
	"hash/maphash"
	"unsafe"
)

// pathIndex finds a tree's nodes by path. A node knows its own path, so the
// index holds only node pointers: an extendible hash table, a directory of
// small open-addressing tables, each slot a pointer and one byte of its
// hash, filled to between 3/8 and 3/4. An entry cost 21.6 bytes in a heap
// profile at 1M znodes, where a Go map from path to node cost about 49 (its
// 24-byte slots, control bytes and growth), and cloning it copies pointers
// instead of rehashing every path.
//
// A table that fills splits in two by one more bit of the hash, so no
// insert rehashes more than one table (maxTableSlots nodes). The top bits of
// a hash pick the directory entry, the low bits the slot.
type pathIndex struct {
	seed  maphash.Seed
	dir   []*indexTable // 1<<depth entries; a table of local depth d fills 1<<(depth-d) of them
	depth uint8
	count int
}

// indexTable is one open-addressing table with linear probing. Deleted
// slots keep a tombstone until the table is rebuilt.
type indexTable struct {
	nodes []*node
	tags  []uint8 // tagEmpty, tagDeleted, or tagFull | 7 bits of the hash
	depth uint8   // the hash bits every path in the table shares
	used  int     // full and deleted slots
	count int     // full slots
}

const (
	tagEmpty   = 0
	tagDeleted = 1
	tagFull    = 0x80

	minTableSlots = 8
	// maxTableSlots bounds a table: a full one splits rather than grows.
	maxTableSlots = 4096
)

func newPathIndex(size int) pathIndex {
	slots := minTableSlots
	for slots < maxTableSlots && slots*3 < size*4 {
		slots *= 2
	}
	x := pathIndex{seed: maphash.MakeSeed()}
	x.dir = []*indexTable{newIndexTable(slots, 0)}
	return x
}

func newIndexTable(slots int, depth uint8) *indexTable {
	return &indexTable{nodes: make([]*node, slots), tags: make([]uint8, slots), depth: depth}
}

func (x *pathIndex) hash(path string) uint64 { return maphash.String(x.seed, path) }

// table returns the table for hash h (a shift by 64 is 0 in Go, so depth 0
// needs no case of its own).
func (x *pathIndex) table(h uint64) *indexTable { return x.dir[h>>(64-x.depth)] }

// tagOf takes hash bits that pick neither the directory entry nor the slot.
func tagOf(h uint64) uint8 { return tagFull | uint8(h>>32)&0x7f }

// find returns the slot holding path, or (found false) the slot where it
// would go: the first tombstone or the empty slot that ends its probe.
func (t *indexTable) find(h uint64, path string) (i int, found bool) {
	mask := len(t.nodes) - 1
	tag := tagOf(h)
	free := -1
	for i = int(h) & mask; ; i = (i + 1) & mask {
		switch g := t.tags[i]; {
		case g == tagEmpty:
			if free >= 0 {
				return free, false
			}
			return i, false
		case g == tagDeleted:
			if free < 0 {
				free = i
			}
		case g == tag && t.nodes[i].path() == path:
			return i, true
		}
	}
}

// get returns the node at path, or nil.
func (x *pathIndex) get(path string) *node {
	h := x.hash(path)
	t := x.table(h)
	if i, ok := t.find(h, path); ok {
		return t.nodes[i]
	}
	return nil
}

// getBytes is get for a path held in a byte slice, without copying it.
func (x *pathIndex) getBytes(path []byte) *node {
	if len(path) == 0 {
		return x.get("")
	}
	return x.get(unsafe.String(&path[0], len(path)))
}

// set puts n in the index, in place of the node with the same path if any.
func (x *pathIndex) set(n *node) {
	path := n.path()
	h := x.hash(path)
	for {
		t := x.table(h)
		i, found := t.find(h, path)
		if found {
			t.nodes[i] = n
			return
		}
		// Keep a quarter of the slots empty, so probes stay short and end.
		if t.tags[i] == tagDeleted || (t.used+1)*4 <= len(t.nodes)*3 {
			if t.tags[i] == tagEmpty {
				t.used++
			}
			t.tags[i], t.nodes[i] = tagOf(h), n
			t.count++
			x.count++
			return
		}
		x.grow(t, h)
	}
}

// del removes the node at path, if any.
func (x *pathIndex) del(path string) {
	h := x.hash(path)
	t := x.table(h)
	i, found := t.find(h, path)
	if !found {
		return
	}
	t.tags[i], t.nodes[i] = tagDeleted, nil
	t.count--
	x.count--
}

func (x *pathIndex) len() int { return x.count }

// grow makes room in t, the table for hash h: it rebuilds it at the same
// size when tombstones fill it, doubles it while it is small, and otherwise
// splits it in two.
func (x *pathIndex) grow(t *indexTable, h uint64) {
	switch {
	case t.count*2 < t.used:
		x.rebuild(t, len(t.nodes))
	case len(t.nodes) < maxTableSlots:
		x.rebuild(t, 2*len(t.nodes))
	default:
		x.split(t, h)
	}
}

// rebuild rehashes t into slots slots, dropping its tombstones.
func (x *pathIndex) rebuild(t *indexTable, slots int) {
	old := t.nodes
	oldTags := t.tags
	t.nodes, t.tags = make([]*node, slots), make([]uint8, slots)
	t.used, t.count = 0, 0
	for i, n := range old {
		if oldTags[i] >= tagFull {
			t.insertNew(x.hash(n.path()), n)
		}
	}
}

// insertNew puts n, known to be absent, into t, which has room.
func (t *indexTable) insertNew(h uint64, n *node) {
	mask := len(t.nodes) - 1
	i := int(h) & mask
	for t.tags[i] != tagEmpty {
		i = (i + 1) & mask
	}
	t.tags[i], t.nodes[i] = tagOf(h), n
	t.used++
	t.count++
}

// split replaces t, the table for hash h, by two tables told apart by the
// next bit of the hash, doubling the directory first if t already uses all
// of its bits.
func (x *pathIndex) split(t *indexTable, h uint64) {
	if t.depth == x.depth {
		dir := make([]*indexTable, 2*len(x.dir))
		for i, tt := range x.dir {
			dir[2*i], dir[2*i+1] = tt, tt
		}
		x.dir = dir
		x.depth++
	}
	d := t.depth + 1
	lo, hi := newIndexTable(maxTableSlots, d), newIndexTable(maxTableSlots, d)
	bit := uint64(1) << (64 - d)
	for i, n := range t.nodes {
		if t.tags[i] < tagFull {
			continue
		}
		nh := x.hash(n.path())
		if nh&bit == 0 {
			lo.insertNew(nh, n)
		} else {
			hi.insertNew(nh, n)
		}
	}
	// t fills a run of 1<<(depth-t.depth) entries; lo takes its first half.
	span := 1 << (x.depth - t.depth)
	first := int(h>>(64-x.depth)) &^ (span - 1)
	for i := range span {
		if i < span/2 {
			x.dir[first+i] = lo
		} else {
			x.dir[first+i] = hi
		}
	}
}

// clone returns an independent copy holding the same node pointers.
func (x *pathIndex) clone() pathIndex {
	c := pathIndex{seed: x.seed, depth: x.depth, count: x.count, dir: make([]*indexTable, len(x.dir))}
	for i, t := range x.dir {
		if i > 0 && x.dir[i-1] == t {
			c.dir[i] = c.dir[i-1] // a table fills a run of entries
			continue
		}
		cp := *t
		cp.nodes = append([]*node(nil), t.nodes...)
		cp.tags = append([]uint8(nil), t.tags...)
		c.dir[i] = &cp
	}
	return c
}

// all calls yield for every node, in no order, until it returns false. The
// index must not change meanwhile.
func (x *pathIndex) all(yield func(*node) bool) {
	for i, t := range x.dir {
		if i > 0 && x.dir[i-1] == t {
			continue
		}
		for j, n := range t.nodes {
			if t.tags[j] >= tagFull && !yield(n) {
				return
			}
		}
	}
}
