package tree

import (
	"slices"
	"sync/atomic"

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

// node is one znode. Its path is the key in Tree.nodes. After Clone a node
// may be shared by several trees; a tree writes only nodes carrying its own
// gen and copies the others first (see own).
//
// The layout is what a million znodes cost: 112 bytes (a size class). The
// ACL is a pointer to a shared list (8 bytes, not a 24-byte slice), and the
// child names are an unordered list, each child knowing its place in it
// (childIdx, in what was padding), so a delete swaps the last name into the
// gap: 16 bytes a child where a set cost about 56.
type node struct {
	data []byte // nil is ZooKeeper's null buffer
	// acl points at a list shared by the nodes that have it (see aclCache).
	acl *[]proto.ACL
	// children holds the child names in no order (nil for a leaf).
	children *[]string
	czxid    int64
	mzxid    int64
	ctime    int64
	mtime    int64
	pzxid    int64
	owner    int64 // session id for ephemerals, ttl for TTL nodes
	// gen is 32 bits: gens grow by two a snapshot, so they repeat only
	// after two billion snapshots.
	gen      uint32
	childIdx int32 // this node's index in its parent's children
	version  int32
	cversion int32 // stored: number of child creations
	aversion int32
	kind     kind
}

func (n *node) numChildren() int32 { return int32(len(n.childNames())) }

// childNames returns the child names, in no order; the slice is the node's.
func (n *node) childNames() []string {
	if n.children == nil {
		return nil
	}
	return *n.children
}

// acls returns the node's ACL list, which must not be modified.
func (n *node) acls() []proto.ACL { return *n.acl }

// stat renders the node's Stat as clients see it.
func (n *node) stat() proto.Stat {
	nc := n.numChildren()
	s := proto.Stat{
		Czxid: n.czxid, Mzxid: n.mzxid, Ctime: n.ctime, Mtime: n.mtime,
		Version: n.version, Cversion: 2*n.cversion - nc, Aversion: n.aversion,
		DataLength: int32(len(n.data)), NumChildren: nc, Pzxid: n.pzxid,
	}
	if n.kind == kindEphemeral {
		s.EphemeralOwner = n.owner
	}
	return s
}

// storedOwner is the ephemeralOwner ZooKeeper stores for the node.
func (n *node) storedOwner() int64 {
	switch n.kind {
	case kindEphemeral:
		return n.owner
	case kindContainer:
		return containerOwner
	case kindTTL:
		return ttlOwnerBits | n.owner
	}
	return 0
}

// Tree is the znode tree. The zero value is not usable; call New. A Tree is
// not safe for concurrent use.
type Tree struct {
	nodes      map[string]*node
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
	t.put(rootPath, &node{data: []byte{}, acl: openACL, gen: t.gen})
	t.put(zkPath, &node{data: []byte{}, acl: openACL, gen: t.gen})
	t.put(quotaPath, &node{data: []byte{}, acl: openACL, gen: t.gen})
	t.put(configPath, &node{data: []byte{}, acl: readACL, aversion: -1, gen: t.gen})
	appendChild(t.nodes[rootPath], "zookeeper", t.nodes[zkPath])
	appendChild(t.nodes[zkPath], "quota", t.nodes[quotaPath])
	appendChild(t.nodes[zkPath], "config", t.nodes[configPath])
	return t
}

func newEmpty(size int) *Tree {
	t := &Tree{
		nodes:      make(map[string]*node, size),
		ephemerals: make(map[int64]map[string]struct{}),
		containers: make(map[string]struct{}),
		ttls:       make(map[string]struct{}),
		gens:       new(atomic.Uint32),
	}
	t.gen = t.gens.Add(1)
	return t
}

// own returns a node at path that this tree may modify: n itself, or a copy
// (with its own children set) that replaces n in the index if n is shared
// with a clone.
func (t *Tree) own(path string, n *node) *node {
	if n.gen == t.gen {
		return n
	}
	cp := *n
	cp.gen = t.gen
	if n.children != nil {
		names := slices.Clone(*n.children)
		cp.children = &names
	}
	if path == "" {
		path = rootPath
	}
	t.nodes[path] = &cp
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

// put inserts n at path into the indexes (not into its parent's children).
func (t *Tree) put(path string, n *node) {
	t.nodes[path] = n
	t.dataSize += int64(len(path) + len(n.data))
	switch n.kind {
	case kindEphemeral:
		s := t.ephemerals[n.owner]
		if s == nil {
			s = make(map[string]struct{})
			t.ephemerals[n.owner] = s
		}
		s[path] = struct{}{}
	case kindContainer:
		t.containers[path] = struct{}{}
	case kindTTL:
		t.ttls[path] = struct{}{}
	}
}

// remove undoes put.
func (t *Tree) remove(path string, n *node) {
	delete(t.nodes, path)
	t.dataSize -= int64(len(path) + len(n.data))
	switch n.kind {
	case kindEphemeral:
		if s := t.ephemerals[n.owner]; s != nil {
			delete(s, path)
			if len(s) == 0 {
				delete(t.ephemerals, n.owner)
			}
		}
	case kindContainer:
		delete(t.containers, path)
	case kindTTL:
		delete(t.ttls, path)
	}
}

// appendChild adds child, named name, to parent's children. Both must be
// this tree's own (or new).
func appendChild(parent *node, name string, child *node) {
	if parent.children == nil {
		parent.children = new([]string)
	}
	child.childIdx = int32(len(*parent.children))
	*parent.children = append(*parent.children, name)
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
	n := t.nodes[string(b)] // no allocation for the lookup
	if n.gen == t.gen {
		return n
	}
	return t.own(string(b), n)
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
	return t.nodes[path]
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
func (t *Tree) NodeCount() int { return len(t.nodes) + 1 }

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
