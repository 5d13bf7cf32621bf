package tree

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// Snapshot format, version 2 (all integers varint/uvarint):
//
//	"HRDT" 0x02
//	uvarint aclCount, then per ACL list: uvarint n, n × (varint perms, string scheme, string id)
//	uvarint nodeCount, then per node in path order:
//	  string path; uvarint len(data)+1 (0 = null) and the data; uvarint acl index;
//	  varint czxid, mzxid, ctime, mtime, pzxid, version, stored cversion, aversion;
//	  byte kind; varint owner (session id or ttl); uvarint number of children
//
// Strings are a uvarint length and the bytes. ACL lists are numbered in order
// of first use, and children are implied by the paths, so equal trees encode
// to equal bytes. The child counts let a restore size every map once instead
// of growing it (a parent of 1M children was half the decode time).
//
// Version 1 is version 2 without the child counts; ReadSnapshot reads both.
const (
	snapshotMagic   = "HRDT\x02"
	snapshotMagicV1 = "HRDT\x01"
)

// ErrBadSnapshot reports a snapshot that cannot be decoded.
var ErrBadSnapshot = errors.New("tree: bad snapshot")

// maxSnapshotField bounds one string or data buffer so a corrupt length
// cannot make ReadSnapshot allocate without limit.
const maxSnapshotField = 64 << 20

// A path the decoder accepts fits in a node's meta (this fails to compile
// otherwise).
var _ [maxPathLen - maxSnapshotField]struct{}

// WriteSnapshot encodes the whole tree to w. The bytes depend only on the
// tree's contents, never on its history or on map order.
func (t *Tree) WriteSnapshot(w io.Writer) error { return writeNodes(w, t.allNodes()) }

// Frozen is a tree's znodes as they were at one moment (see Freeze).
type Frozen struct {
	nodes []*node
}

// Freeze captures the tree's znodes for WriteSnapshot, at the cost of a
// pointer a znode: every current znode becomes shared copy-on-write, as
// after Clone, so the tree may go on changing (under the caller's lock, as
// always) while the Frozen is written from another goroutine. A snapshot
// needs no index of its own, so this holds a third of what a Clone did.
func (t *Tree) Freeze() *Frozen {
	t.gen = t.gens.Add(1)
	return &Frozen{nodes: t.allNodes()}
}

// WriteSnapshot encodes the frozen tree to w, as Tree.WriteSnapshot would
// have at the moment of Freeze. Calls must not overlap.
func (f *Frozen) WriteSnapshot(w io.Writer) error { return writeNodes(w, f.nodes) }

// allNodes lists the tree's znodes in no order.
func (t *Tree) allNodes() []*node {
	nodes := make([]*node, 0, t.nodes.len())
	t.nodes.all(func(n *node) bool {
		nodes = append(nodes, n)
		return true
	})
	return nodes
}

// writeNodes encodes a snapshot of nodes, which it sorts.
func writeNodes(w io.Writer, nodes []*node) error {
	// Sorted by path: 8 bytes a node, as each knows its path.
	slices.SortFunc(nodes, func(a, b *node) int { return strings.Compare(a.path(), b.path()) })

	// ACL lists are numbered in order of first use. Most nodes share a
	// list, so they are found by pointer before the lists are compared.
	aclIndex := make(map[string]uint64)
	byList := make(map[*[]proto.ACL]uint64)
	var aclTable [][]proto.ACL
	var key []byte
	for _, n := range nodes {
		if _, ok := byList[n.acl]; ok {
			continue
		}
		acl := n.acls()
		key = appendACL(key[:0], acl)
		idx, ok := aclIndex[string(key)]
		if !ok {
			idx = uint64(len(aclTable))
			aclIndex[string(key)] = idx
			aclTable = append(aclTable, acl)
		}
		byList[n.acl] = idx
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	buf := append(make([]byte, 0, 4096), snapshotMagic...)
	buf = binary.AppendUvarint(buf, uint64(len(aclTable)))
	for _, acl := range aclTable {
		buf = appendACL(buf, acl)
	}
	buf = binary.AppendUvarint(buf, uint64(len(nodes)))
	for _, n := range nodes {
		buf = appendString(buf, n.path())
		if n.meta&metaNullData != 0 {
			buf = binary.AppendUvarint(buf, 0)
		} else {
			data := n.dataString()
			buf = binary.AppendUvarint(buf, uint64(len(data))+1)
			buf = append(buf, data...)
		}
		buf = binary.AppendUvarint(buf, byList[n.acl])
		for _, v := range [...]int64{n.czxid, n.mzxid, n.ctime, n.mtime, n.pzxid,
			int64(n.version), int64(n.cversion), int64(n.aversion)} {
			buf = binary.AppendVarint(buf, v)
		}
		buf = append(buf, byte(n.kind()))
		buf = binary.AppendVarint(buf, n.owner())
		buf = binary.AppendUvarint(buf, uint64(len(n.childNames())))
		if len(buf) >= 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				return fmt.Errorf("write snapshot: %w", err)
			}
			buf = buf[:0]
		}
	}
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendACL(b []byte, acl []proto.ACL) []byte {
	b = binary.AppendUvarint(b, uint64(len(acl)))
	for _, a := range acl {
		b = binary.AppendVarint(b, int64(a.Perms))
		b = appendString(b, a.ID.Scheme)
		b = appendString(b, a.ID.ID)
	}
	return b
}

// ReadSnapshot decodes a tree written by WriteSnapshot. Errors match
// ErrBadSnapshot (or carry the reader's error). The tree has default Options.
// If r is an io.ByteReader (a *bufio.Reader, say) ReadSnapshot reads exactly
// the snapshot's bytes, so more data may follow it in the same stream;
// otherwise it buffers and may read past the end.
func ReadSnapshot(r io.Reader) (*Tree, error) {
	br, ok := r.(byteReader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	d := &decoder{r: br}
	t, err := d.tree()
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return t, nil
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

type decoder struct {
	r   byteReader
	err error
	v1  bool // no child counts

	// Each node's path, data and owner are read into a shared chunk rather
	// than an allocation each (see chunk).
	bufs    chunk
	entries []entry
}

// entry is a node read in the first pass, before it is linked.
type entry struct {
	n        *node
	children uint64 // as the snapshot says (version 2)
}

// chunk hands out pieces of one backing buffer, so restoring a big tree
// costs one allocation per chunk instead of one per node and no size-class
// rounding. A chunk stays alive while any piece of it does: a znode whose
// data is later replaced keeps its old bytes until every other piece of
// that chunk goes too, which bounds the waste by the data a restore read.
type chunk struct {
	buf []byte
}

// chunkSize is the size of one backing buffer; a piece larger than an
// eighth of it gets its own.
const chunkSize = 256 << 10

// take returns a piece of n bytes, capacity n (an append never writes into
// its neighbour). Only the last piece taken may be trimmed (see trim).
func (c *chunk) take(n int) []byte {
	if n > chunkSize/8 {
		return make([]byte, n)
	}
	if cap(c.buf)-len(c.buf) < n {
		c.buf = make([]byte, 0, chunkSize)
	}
	off := len(c.buf)
	c.buf = c.buf[:off+n]
	return c.buf[off : off+n : off+n]
}

// trim gives the last k bytes of the last piece taken, b, back to the
// chunk, and returns the rest of b.
func (c *chunk) trim(b []byte, k int) []byte {
	if len(c.buf) > 0 && len(b) > 0 && &c.buf[len(c.buf)-1] == &b[len(b)-1] {
		c.buf = c.buf[:len(c.buf)-k]
	}
	return b[:len(b)-k]
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrBadSnapshot}, args...)...)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail("%v", err)
	}
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d.r)
	if err != nil {
		d.fail("%v", err)
	}
	return v
}

// emptyData is every node's empty (not null) data: one shared, zero-capacity
// slice.
var emptyData = []byte{}

// readFull reads len(b) bytes into b.
func (d *decoder) readFull(b []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("%v", err)
	}
}

// length reads a path or data length, bounded by maxSnapshotField.
func (d *decoder) length() int {
	n := d.uvarint()
	if n > maxSnapshotField {
		d.fail("field of %d bytes", n)
		return 0
	}
	return int(n)
}

// string reads a short string (of an ACL) with one allocation.
func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > maxSnapshotField {
		d.fail("field of %d bytes", n)
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("%v", err)
		return ""
	}
	return string(b)
}

func (d *decoder) int32() int32 {
	v := d.varint()
	if v != int64(int32(v)) {
		d.fail("int32 out of range: %d", v)
	}
	return int32(v)
}

func (d *decoder) acl() *[]proto.ACL {
	n := d.uvarint()
	if n > 1<<16 {
		d.fail("ACL of %d entries", n)
	}
	if d.err != nil {
		return nil
	}
	acl := make([]proto.ACL, n)
	for i := range acl {
		acl[i].Perms = d.int32()
		acl[i].ID.Scheme = d.string()
		acl[i].ID.ID = d.string()
	}
	if len(acl) == 1 && acl[0] == proto.OpenACLUnsafe[0] {
		return openACL
	}
	return &acl
}

// tree reads the snapshot in two passes: the first reads every node, the
// second, once the node count is proven by the nodes actually read, builds
// the index and the children sets, each map allocated at its final size.
func (d *decoder) tree() (*Tree, error) {
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(d.r, magic); err != nil || (string(magic) != snapshotMagic && string(magic) != snapshotMagicV1) {
		return nil, fmt.Errorf("%w: missing header", ErrBadSnapshot)
	}
	d.v1 = string(magic) == snapshotMagicV1
	nACL := d.uvarint()
	acls := make([]*[]proto.ACL, 0, min(nACL, 1<<16))
	for i := uint64(0); i < nACL && d.err == nil; i++ {
		acls = append(acls, d.acl())
	}
	count := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	// count is not trusted until that many nodes have been read: a corrupt
	// one must not make a few bytes of input allocate gigabytes. Nodes are
	// allocated in blocks as they arrive.
	const block = 4096
	d.entries = make([]entry, 0, min(count, 1<<16))
	var nodes []node
	var pathBuf []byte
	for i := uint64(0); i < count && d.err == nil; i++ {
		if len(nodes) == 0 {
			nodes = make([]node, min(count-i, block))
		}
		n := &nodes[0]
		nodes = nodes[1:]
		if len(d.entries) == cap(d.entries) {
			// Double: append's growth for big slices (1.25×) copied the
			// entries of a 1M-node restore about five times over.
			d.entries = slices.Grow(d.entries, len(d.entries))
		}
		d.entries = append(d.entries, entry{n: n})
		d.node(len(d.entries)-1, acls, &pathBuf)
	}
	if d.err != nil {
		return nil, d.err
	}
	t := newEmpty(len(d.entries))
	if err := d.link(t); err != nil {
		return nil, err
	}
	if t.nodes.get(rootPath) == nil {
		return nil, fmt.Errorf("%w: no root", ErrBadSnapshot)
	}
	return t, nil
}

// node reads entry i's node (first pass). Its path, data and owner go into
// one piece of the chunk, laid out as node.layout does; the owner's 8 bytes
// are reserved and given back for a node without one, since the kind comes
// after the data.
func (d *decoder) node(i int, acls []*[]proto.ACL, pathBuf *[]byte) {
	e := &d.entries[i]
	n := e.n
	plen := d.length() // at most maxSnapshotField, so within maxPathLen
	if d.err != nil {
		return
	}
	*pathBuf = slices.Grow((*pathBuf)[:0], plen)[:plen]
	d.readFull(*pathBuf)
	null := false
	dlen := 0
	switch l := d.uvarint(); {
	case l == 0:
		null = true
	case l-1 > maxSnapshotField:
		d.fail("field of %d bytes", l-1)
	default:
		dlen = int(l - 1)
	}
	if d.err != nil {
		return
	}
	b := d.bufs.take(plen + dlen + ownerSize)
	copy(b, *pathBuf)
	d.readFull(b[plen : plen+dlen])
	idx := d.uvarint()
	for _, p := range []*int64{&n.czxid, &n.mzxid, &n.ctime, &n.mtime, &n.pzxid} {
		*p = d.varint()
	}
	n.version, n.cversion, n.aversion = d.int32(), d.int32(), d.int32()
	var k kind
	if d.err == nil {
		kb, err := d.r.ReadByte()
		if err != nil {
			d.fail("%v", err)
		}
		k = kind(kb)
	}
	owner := d.varint()
	if !d.v1 {
		e.children = d.uvarint()
	}
	switch {
	case d.err != nil:
		return
	case idx >= uint64(len(acls)):
		d.fail("ACL index %d", idx)
		return
	case k > kindTTL:
		d.fail("node kind %d", k)
		return
	}
	if k.hasOwner() {
		putOwner(b[plen+dlen:], owner)
	} else {
		b = d.bufs.trim(b, ownerSize)
	}
	n.meta = uint32(plen) | uint32(k)<<metaPathBits
	if null {
		n.meta |= metaNullData
	}
	n.buf = bytesString(b)
	n.acl = acls[idx]
}

// link checks every entry's path and puts it in the tree under its parent,
// which must come earlier (second pass).
func (d *decoder) link(t *Tree) error {
	// The previous node and the last parent looked up: paths arrive in
	// sorted order, so a node's parent is nearly always one of them and
	// restoring a big tree needs no map lookup per node to find it.
	var prevPath, parentPath string
	var prev, parent *node
	// maxPath is the greatest path so far (WriteSnapshot's order makes it
	// the previous one); a path above it cannot be a duplicate.
	var maxPath string
	total := uint64(len(d.entries))
	for i := range d.entries {
		e := &d.entries[i]
		n := e.n
		path := n.path()
		if i > 0 && path <= maxPath && t.nodes.get(path) != nil {
			return fmt.Errorf("%w: duplicate path %q", ErrBadSnapshot, path)
		}
		n.gen = t.gen
		if e.children > 0 {
			// Every child is one of the nodes read, so this is bounded.
			if e.children > total {
				return fmt.Errorf("%w: %q claims %d children", ErrBadSnapshot, path, e.children)
			}
			names := make([]string, 0, e.children)
			n.children = &names
		}
		if path != rootPath {
			if pathProblem(path) != "" {
				return fmt.Errorf("%w: invalid path %q", ErrBadSnapshot, path)
			}
			pp := parentOf(path)
			var p *node
			switch {
			case parent != nil && pp == parentPath:
				p = parent
			case prev != nil && pp == prevPath:
				p = prev
			default:
				p = t.nodes.get(pp)
			}
			if p == nil {
				return fmt.Errorf("%w: %q has no parent", ErrBadSnapshot, path)
			}
			parentPath, parent = pp, p
			appendChild(p, n)
		}
		t.put(n)
		prevPath, prev = path, n
		if i == 0 || path > maxPath {
			maxPath = path
		}
	}
	if !d.v1 {
		for i := range d.entries {
			if e := &d.entries[i]; uint64(len(e.n.childNames())) != e.children {
				return fmt.Errorf("%w: %q has %d children, the snapshot says %d", ErrBadSnapshot, e.n.path(), len(e.n.childNames()), e.children)
			}
		}
	}
	d.entries = nil
	return nil
}

// Clone returns an independent copy of the tree. It is cheap: it copies the
// path index and the small kind indexes, while the znodes themselves become
// shared copy-on-write, so each tree copies a znode the first time it
// changes it. Afterwards the original and the clone may be used from
// different goroutines (each by one at a time), e.g. to write a snapshot
// while the original keeps applying writes.
func (t *Tree) Clone() *Tree {
	t.gen = t.gens.Add(1) // every current node is now shared
	c := &Tree{
		nodes:      t.nodes.clone(),
		ephemerals: make(map[int64]map[string]struct{}, len(t.ephemerals)),
		containers: maps.Clone(t.containers),
		ttls:       maps.Clone(t.ttls),
		events:     append([]Event(nil), t.events...),
		opts:       t.opts,
		aclCache:   t.aclCache,
		dataSize:   t.dataSize,
		gens:       t.gens,
		gen:        t.gens.Add(1),
	}
	for s, paths := range t.ephemerals {
		c.ephemerals[s] = maps.Clone(paths)
	}
	return c
}
