package tree

import (
	"encoding/binary"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/herd-io/herd/server/proto"
)

// Txn stamps a write with what the leader put into its log entry: the write's
// zxid and its time in milliseconds since the epoch.
type Txn struct {
	Zxid int64
	Time int64
}

// Caller identifies who asks, for ACL checks and the "auth" ACL scheme.
type Caller struct {
	// Session is the caller's session id; it owns the ephemerals it creates.
	Session int64
	// Ids are the caller's authenticated identities, including its ip id.
	Ids []proto.Id
	// Super bypasses every ACL check (as does an id with scheme "super").
	Super bool
}

// Event is a change that watches may fire on.
type Event struct {
	Type proto.EventType
	Path string
}

// Options are the tree's configuration switches; they are not part of the
// replicated state and are not stored in snapshots.
type Options struct {
	// ExtendedTypes allows TTL nodes (zookeeper.extendedTypesEnabled).
	ExtendedTypes bool
	// EnforceQuota refuses writes over a hard quota limit (enforceQuota; quota.go).
	EnforceQuota bool
	// QuotaExceeded, if set, is told of every write over a quota limit.
	QuotaExceeded func(QuotaExceeded)
}

// kind is what a znode's ephemeralOwner field means.
type kind uint8

const (
	kindPersistent kind = iota
	kindEphemeral       // owner is the session id
	kindContainer
	kindTTL // owner is the ttl in ms
)

// Stored ephemeralOwner markers (EphemeralType.java); clients see 0 for both.
const (
	containerOwner int64 = -0x8000000000000000
	ttlOwnerBits   int64 = -0x100000000000000 // 0xFF00000000000000
	maxTTL         int64 = 0xFFFFFFFFFF
)

// node is one znode. After Clone a node may be shared by several trees; a
// tree writes only nodes carrying its own gen and copies the others first
// (see own).
//
// The layout is what a million znodes cost: 96 bytes (a size class), plus
// one allocation holding the path, the data and, for ephemeral and TTL
// nodes, the owner (see layout). The ACL is a pointer to a shared list (8
// bytes, not a 24-byte slice), and the child names are an unordered list,
// each child knowing its place in it (childIdx), so a delete swaps the last
// name into the gap: 16 bytes a child where a set cost about 56.
type node struct {
	// buf is the path, then the data, then for an ephemeral or TTL node the
	// owner, big-endian (8 bytes). It never changes: setData makes a new one.
	buf string
	// acl points at a list shared by the nodes that have it (see aclCache).
	acl *[]proto.ACL
	// children holds the child names in no order (nil for a leaf).
	children *[]string
	czxid    int64
	mzxid    int64
	ctime    int64
	mtime    int64
	pzxid    int64
	// meta is the path's length, the kind and whether the data is null.
	meta uint32
	// gen is 32 bits: gens grow by at most two a snapshot (Clone; Freeze
	// takes one), so they repeat only after two billion snapshots.
	gen      uint32
	childIdx int32 // this node's index in its parent's children
	version  int32
	cversion int32 // stored: number of child creations
	aversion int32
}

// meta's fields.
const (
	metaPathBits = 28 // paths up to 256 MiB; requests are far smaller
	metaPathMask = 1<<metaPathBits - 1
	metaKindMask = 3 << metaPathBits
	metaNullData = 1 << 30
	ownerSize    = 8
)

// maxPathLen is the longest path a node can hold.
const maxPathLen = metaPathMask

// newNode returns a node of kind k at path with data (nil is null) and, for
// an ephemeral or TTL node, owner (the session id or the ttl).
func newNode(path string, data []byte, k kind, owner int64) *node {
	n := &node{}
	n.layout(path, data, k, owner)
	return n
}

// layout sets the node's path, data, kind and owner in one new allocation.
func (n *node) layout(path string, data []byte, k kind, owner int64) {
	size := len(path) + len(data)
	if k.hasOwner() {
		size += ownerSize
	}
	b := make([]byte, size)
	copy(b[copy(b, path):], data)
	if k.hasOwner() {
		putOwner(b[size-ownerSize:], owner)
	}
	n.meta = uint32(len(path)) | uint32(k)<<metaPathBits
	if data == nil {
		n.meta |= metaNullData
	}
	n.buf = bytesString(b)
}

// bytesString returns b as a string without copying; b must not change.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func putOwner(b []byte, v int64) { binary.BigEndian.PutUint64(b, uint64(v)) }

// hasOwner reports whether nodes of kind k store an owner: ephemeral (1) and
// TTL (3) nodes, the kinds with the low bit set.
func (k kind) hasOwner() bool { return k&1 == 1 }

// path returns the node's path ("/" for the root).
func (n *node) path() string { return n.buf[:n.meta&metaPathMask] }

// name returns the last element of the node's path, a piece of its buffer.
func (n *node) name() string {
	p := n.path()
	return p[strings.LastIndexByte(p, '/')+1:]
}

func (n *node) kind() kind { return kind(n.meta & metaKindMask >> metaPathBits) }

// ownerLen is the bytes the owner takes at the end of buf: 8 or 0.
func (n *node) ownerLen() int { return int(n.meta>>metaPathBits&1) * ownerSize }

// dataString returns the node's data as a piece of its buffer.
func (n *node) dataString() string {
	return n.buf[n.meta&metaPathMask : len(n.buf)-n.ownerLen()]
}

// data returns the node's data, nil for ZooKeeper's null buffer. The slice
// is the node's and must not be modified.
func (n *node) data() []byte {
	if n.meta&metaNullData != 0 {
		return nil
	}
	s := n.dataString()
	if len(s) == 0 {
		return emptyData
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func (n *node) dataLen() int { return len(n.buf) - int(n.meta&metaPathMask) - n.ownerLen() }

// owner is the session id of an ephemeral node, the ttl of a TTL node, and
// 0 for the others.
func (n *node) owner() int64 {
	if n.ownerLen() == 0 {
		return 0
	}
	b := unsafe.Slice(unsafe.StringData(n.buf[len(n.buf)-ownerSize:]), ownerSize)
	return int64(binary.BigEndian.Uint64(b))
}

// childNames returns the child names, in no order; the slice is the node's.
func (n *node) childNames() []string {
	if n.children == nil {
		return nil
	}
	return *n.children
}

// acls returns the node's ACL list, which must not be modified.
func (n *node) acls() []proto.ACL { return *n.acl }

// stat renders the node's Stat as clients see it. It is a wrapper small
// enough to inline, so that statTo writes straight into the caller's Stat
// (a returned Stat was copied twice on every read's path).
func (n *node) stat() proto.Stat {
	var s proto.Stat
	n.statTo(&s)
	return s
}

func (n *node) statTo(s *proto.Stat) {
	var nc int32
	if n.children != nil {
		nc = int32(len(*n.children))
	}
	*s = proto.Stat{
		Czxid: n.czxid, Mzxid: n.mzxid, Ctime: n.ctime, Mtime: n.mtime,
		Version: n.version, Cversion: 2*n.cversion - nc, Aversion: n.aversion,
		DataLength: int32(n.dataLen()), NumChildren: nc, Pzxid: n.pzxid,
	}
	if n.kind() == kindEphemeral {
		s.EphemeralOwner = n.owner()
	}
}

// storedOwner is the ephemeralOwner ZooKeeper stores for the node.
func (n *node) storedOwner() int64 {
	switch n.kind() {
	case kindEphemeral:
		return n.owner()
	case kindContainer:
		return containerOwner
	case kindTTL:
		return ttlOwnerBits | n.owner()
	}
	return 0
}

// Tree is the znode tree. The zero value is not usable; call New. A Tree is
// not safe for concurrent use.
type Tree struct {
	nodes      pathIndex
	ephemerals map[int64]map[string]struct{} // session -> paths
	containers map[string]struct{}
	ttls       map[string]struct{}
	events     []Event
	opts       Options
	dataSize   int64 // sum of path and data lengths

	undo *[]func() // non-nil while a multi is being applied

	aclCache aclCache

	gen  uint32         // nodes with this gen belong to this tree alone
	gens *atomic.Uint32 // shared by a tree and its clones: gens never repeat
}

// Well-known paths (DataTree's constructor).
const (
	rootPath   = "/"
	zkPath     = "/zookeeper"
	quotaPath  = "/zookeeper/quota"
	configPath = "/zookeeper/config"
)

// New returns a tree holding the built-in nodes exactly as a fresh ZooKeeper
// has them: "/", "/zookeeper", "/zookeeper/quota" and "/zookeeper/config"
// (world READ only, aversion -1), all with empty data and zero stats.
func New() *Tree {
	t := newEmpty(4)
	builtin := func(path string, acl *[]proto.ACL) *node {
		n := newNode(path, []byte{}, kindPersistent, 0)
		n.acl, n.gen = acl, t.gen
		t.put(n)
		return n
	}
	root, zk := builtin(rootPath, openACL), builtin(zkPath, openACL)
	quota, config := builtin(quotaPath, openACL), builtin(configPath, readACL)
	config.aversion = -1
	appendChild(root, zk)
	appendChild(zk, quota)
	appendChild(zk, config)
	return t
}

func newEmpty(size int) *Tree {
	t := &Tree{
		nodes:      newPathIndex(size),
		ephemerals: make(map[int64]map[string]struct{}),
		containers: make(map[string]struct{}),
		ttls:       make(map[string]struct{}),
		gens:       new(atomic.Uint32),
	}
	t.gen = t.gens.Add(1)
	return t
}

// own returns a node that this tree may modify: n itself, or a copy (with
// its own children list) that replaces n in the index if n is shared with a
// clone.
func (t *Tree) own(n *node) *node {
	if n.gen == t.gen {
		return n
	}
	cp := *n
	cp.gen = t.gen
	if n.children != nil {
		names := slices.Clone(*n.children)
		cp.children = &names
	}
	t.nodes.set(&cp)
	return &cp
}

// NewWithOptions is New with the given configuration.
func NewWithOptions(o Options) *Tree {
	t := New()
	t.opts = o
	return t
}

// SetOptions changes the tree's configuration.
func (t *Tree) SetOptions(o Options) { t.opts = o }

// Options returns the tree's configuration.
func (t *Tree) Options() Options { return t.opts }

// put inserts n into the indexes (not into its parent's children).
func (t *Tree) put(n *node) {
	path := n.path()
	t.nodes.set(n)
	t.dataSize += int64(len(path) + n.dataLen())
	switch n.kind() {
	case kindEphemeral:
		owner := n.owner()
		s := t.ephemerals[owner]
		if s == nil {
			s = make(map[string]struct{})
			t.ephemerals[owner] = s
		}
		s[path] = struct{}{}
	case kindContainer:
		t.containers[path] = struct{}{}
	case kindTTL:
		t.ttls[path] = struct{}{}
	}
}

// remove undoes put.
func (t *Tree) remove(n *node) {
	path := n.path()
	t.nodes.del(path)
	t.dataSize -= int64(len(path) + n.dataLen())
	switch n.kind() {
	case kindEphemeral:
		owner := n.owner()
		if s := t.ephemerals[owner]; s != nil {
			delete(s, path)
			if len(s) == 0 {
				delete(t.ephemerals, owner)
			}
		}
	case kindContainer:
		delete(t.containers, path)
	case kindTTL:
		delete(t.ttls, path)
	}
}

// rekey points the kind indexes' keys at n's current buffer, after n got a
// new one with the same path (setData), so they do not keep the old alive.
// Go's map assignment replaces the key of an existing string entry.
func (t *Tree) rekey(n *node) {
	path := n.path()
	switch n.kind() {
	case kindEphemeral:
		t.ephemerals[n.owner()][path] = struct{}{}
	case kindContainer:
		t.containers[path] = struct{}{}
	case kindTTL:
		t.ttls[path] = struct{}{}
	}
}

// appendChild adds child to parent's children. Both must be this tree's own
// (or new).
func appendChild(parent *node, child *node) {
	if parent.children == nil {
		parent.children = new([]string)
	}
	child.childIdx = int32(len(*parent.children))
	*parent.children = append(*parent.children, child.name())
}

// removed is what removeChild changed, for putBack.
type removed struct {
	parent, moved *node // moved: the sibling whose name filled the gap, or nil
	name          string
	i, last       int32
}

// removeChild takes child out of the children of parent (this tree's own,
// at parentPath): the last name moves into its place, and that sibling,
// made this tree's own, learns its new index.
func (t *Tree) removeChild(parentPath string, parent *node, child *node) removed {
	names := *parent.children
	i, last := child.childIdx, int32(len(names)-1)
	r := removed{parent: parent, name: names[i], i: i, last: last}
	if i != last {
		r.moved = t.ownChild(parentPath, names[last])
		names[i] = names[last]
		r.moved.childIdx = i
	}
	names[last] = ""
	*parent.children = names[:last]
	if last == 0 {
		parent.children = nil
	}
	return r
}

// putBack undoes removeChild exactly (a multi's rollback).
func (r removed) putBack() {
	p := r.parent
	if p.children == nil {
		p.children = new([]string)
	}
	names := append(*p.children, r.name)
	if r.moved != nil {
		names[r.last] = names[r.i]
		r.moved.childIdx = r.last
		names[r.i] = r.name
	}
	*p.children = names
}

// ownChild returns this tree's own copy of the child called name of the
// node at parentPath, building its path without an allocation.
func (t *Tree) ownChild(parentPath, name string) *node {
	var buf [256]byte
	b := buf[:0]
	if parentPath != rootPath && parentPath != "" {
		b = append(b, parentPath...)
	}
	b = append(b, '/')
	b = append(b, name...)
	n := t.nodes.getBytes(b)
	if n.gen == t.gen {
		return n
	}
	return t.own(n)
}

// childPath joins a parent's path and a child's name.
func childPath(parentPath, name string) string {
	if parentPath == rootPath || parentPath == "" {
		return "/" + name
	}
	return parentPath + "/" + name
}

// get looks a path up the way ZooKeeper's node map does: "" is the root too.
func (t *Tree) get(path string) *node {
	if path == "" {
		path = rootPath
	}
	return t.nodes.get(path)
}

// emit records an event unless a multi is running and later rolls it back
// (rollback truncates the slice).
func (t *Tree) emit(typ proto.EventType, path string) {
	t.events = append(t.events, Event{Type: typ, Path: path})
}

// TakeEvents returns the events produced by writes since the last call, in the
// order they happened, and forgets them.
func (t *Tree) TakeEvents() []Event {
	ev := t.events
	t.events = nil
	return ev
}

// NodeCount is the znode count as ZooKeeper reports it (zk_znode_count): the
// root is counted twice there (under "" and "/"), so a fresh tree reports 5.
func (t *Tree) NodeCount() int { return t.nodes.len() + 1 }

// EphemeralCount is the number of session-owned ephemeral nodes.
func (t *Tree) EphemeralCount() int {
	c := 0
	for _, s := range t.ephemerals {
		c += len(s)
	}
	return c
}

// ApproximateDataSize is the sum of every znode's path and data lengths.
func (t *Tree) ApproximateDataSize() int64 { return t.dataSize }

// SessionsWithEphemerals maps each session that owns ephemerals to their
// paths, sorted.
func (t *Tree) SessionsWithEphemerals() map[int64][]string {
	m := make(map[int64][]string, len(t.ephemerals))
	for s, paths := range t.ephemerals {
		m[s] = sortedKeys(paths)
	}
	return m
}
