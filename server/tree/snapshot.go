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

// Snapshot format, version 1 (all integers varint/uvarint):
//
//	"HRDT" 0x01
//	uvarint aclCount, then per ACL list: uvarint n, n × (varint perms, string scheme, string id)
//	uvarint nodeCount, then per node in path order:
//	  string path; uvarint len(data)+1 (0 = null) and the data; uvarint acl index;
//	  varint czxid, mzxid, ctime, mtime, pzxid, version, stored cversion, aversion;
//	  byte kind; varint owner (session id or ttl)
//
// Strings are a uvarint length and the bytes. ACL lists are numbered in order
// of first use, and children are implied by the paths, so equal trees encode
// to equal bytes.
const snapshotMagic = "HRDT\x01"

// ErrBadSnapshot reports a snapshot that cannot be decoded.
var ErrBadSnapshot = errors.New("tree: bad snapshot")

// maxSnapshotField bounds one string or data buffer so a corrupt length
// cannot make ReadSnapshot allocate without limit.
const maxSnapshotField = 64 << 20

// WriteSnapshot encodes the whole tree to w. The bytes depend only on the
// tree's contents, never on its history or on map order.
func (t *Tree) WriteSnapshot(w io.Writer) error {
	// One pass over the index collects the nodes with their paths, so the
	// passes below need no map lookups.
	type entry struct {
		path string
		n    *node
	}
	entries := make([]entry, 0, len(t.nodes))
	for p, n := range t.nodes {
		entries = append(entries, entry{p, n})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.path, b.path) })

	aclIndex := make(map[string]uint64)
	type sliceKey struct {
		first *proto.ACL
		n     int
	}
	bySlice := make(map[sliceKey]uint64) // fast path: most nodes share a list
	var aclTable [][]proto.ACL
	nodeACL := make([]uint64, len(entries))
	var key []byte
	for i, e := range entries {
		acl := e.n.acl
		if len(acl) > 0 {
			if idx, ok := bySlice[sliceKey{&acl[0], len(acl)}]; ok {
				nodeACL[i] = idx
				continue
			}
		}
		key = appendACL(key[:0], acl)
		idx, ok := aclIndex[string(key)]
		if !ok {
			idx = uint64(len(aclTable))
			aclIndex[string(key)] = idx
			aclTable = append(aclTable, acl)
		}
		if len(acl) > 0 {
			bySlice[sliceKey{&acl[0], len(acl)}] = idx
		}
		nodeACL[i] = idx
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	buf := append(make([]byte, 0, 4096), snapshotMagic...)
	buf = binary.AppendUvarint(buf, uint64(len(aclTable)))
	for _, acl := range aclTable {
		buf = appendACL(buf, acl)
	}
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	for i, e := range entries {
		n := e.n
		buf = appendString(buf, e.path)
		if n.data == nil {
			buf = binary.AppendUvarint(buf, 0)
		} else {
			buf = binary.AppendUvarint(buf, uint64(len(n.data))+1)
			buf = append(buf, n.data...)
		}
		buf = binary.AppendUvarint(buf, nodeACL[i])
		for _, v := range [...]int64{n.czxid, n.mzxid, n.ctime, n.mtime, n.pzxid,
			int64(n.version), int64(n.cversion), int64(n.aversion)} {
			buf = binary.AppendVarint(buf, v)
		}
		buf = append(buf, byte(n.kind))
		buf = binary.AppendVarint(buf, n.owner)
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
	buf []byte // scratch for strings, which are copied out of it once

	// The previous node and the last parent looked up: paths arrive in
	// sorted order, so a node's parent is nearly always one of them and
	// restoring a big tree needs no map lookup per node to find it.
	prevPath, parentPath string
	prev, parent         *node
	// maxPath is the greatest path read so far (WriteSnapshot's order makes
	// it the previous one); a path above it cannot be a duplicate.
	maxPath string
	any     bool // a node has been read
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

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > maxSnapshotField {
		d.fail("field of %d bytes", n)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("%v", err)
	}
	return b
}

// string reads a string with one allocation (the string itself).
func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > maxSnapshotField {
		d.fail("field of %d bytes", n)
		return ""
	}
	if uint64(cap(d.buf)) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
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

func (d *decoder) acl() []proto.ACL {
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
		return proto.OpenACLUnsafe
	}
	return acl
}

func (d *decoder) tree() (*Tree, error) {
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(d.r, magic); err != nil || string(magic) != snapshotMagic {
		return nil, fmt.Errorf("%w: missing header", ErrBadSnapshot)
	}
	nACL := d.uvarint()
	acls := make([][]proto.ACL, 0, min(nACL, 1<<16))
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
	t := newEmpty(int(min(count, 1<<16)))
	var nodes []node
	for i := uint64(0); i < count && d.err == nil; i++ {
		if len(nodes) == 0 {
			nodes = make([]node, min(count-i, block))
		}
		n := &nodes[0]
		nodes = nodes[1:]
		d.node(t, n, acls)
	}
	if d.err != nil {
		return nil, d.err
	}
	if t.nodes[rootPath] == nil {
		return nil, fmt.Errorf("%w: no root", ErrBadSnapshot)
	}
	return t, nil
}

// node reads one node and links it under its parent, which sorts earlier.
func (d *decoder) node(t *Tree, n *node, acls [][]proto.ACL) {
	path := d.string()
	if l := d.uvarint(); l > 0 {
		n.data = d.bytes(l - 1)
	}
	idx := d.uvarint()
	for _, p := range []*int64{&n.czxid, &n.mzxid, &n.ctime, &n.mtime, &n.pzxid} {
		*p = d.varint()
	}
	n.version, n.cversion, n.aversion = d.int32(), d.int32(), d.int32()
	if d.err == nil {
		k, err := d.r.ReadByte()
		if err != nil {
			d.fail("%v", err)
		}
		n.kind = kind(k)
	}
	n.owner = d.varint()
	switch {
	case d.err != nil:
		return
	case idx >= uint64(len(acls)):
		d.fail("ACL index %d", idx)
		return
	case n.kind > kindTTL:
		d.fail("node kind %d", n.kind)
		return
	// WriteSnapshot writes paths in strictly increasing order, which alone
	// proves a path new; anything else is looked up.
	case (!d.any || path <= d.maxPath) && t.nodes[path] != nil:
		d.fail("duplicate path %q", path)
		return
	}
	n.acl = acls[idx]
	n.gen = t.gen
	if path != rootPath {
		if pathProblem(path) != "" {
			d.fail("invalid path %q", path)
			return
		}
		parent := d.parentNode(t, parentOf(path))
		if parent == nil {
			d.fail("%q has no parent", path)
			return
		}
		parent.addChild(path[strings.LastIndexByte(path, '/')+1:])
	}
	t.put(path, n)
	d.prevPath, d.prev = path, n
	if !d.any || path > d.maxPath {
		d.maxPath, d.any = path, true
	}
}

// parentNode finds the node at path: the previous node, the last parent
// found, or, failing both, the tree's index.
func (d *decoder) parentNode(t *Tree, path string) *node {
	switch {
	case d.parent != nil && path == d.parentPath:
		return d.parent
	case d.prev != nil && path == d.prevPath:
		d.parentPath, d.parent = path, d.prev
		return d.prev
	}
	p := t.nodes[path]
	if p != nil {
		d.parentPath, d.parent = path, p
	}
	return p
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
		nodes:      maps.Clone(t.nodes),
		ephemerals: make(map[int64]map[string]struct{}, len(t.ephemerals)),
		containers: maps.Clone(t.containers),
		ttls:       maps.Clone(t.ttls),
		events:     append([]Event(nil), t.events...),
		opts:       t.opts,
		dataSize:   t.dataSize,
		gens:       t.gens,
		gen:        t.gens.Add(1),
	}
	for s, paths := range t.ephemerals {
		c.ephemerals[s] = maps.Clone(paths)
	}
	return c
}
