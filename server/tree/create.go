package tree

import (
	"fmt"

	"github.com/herd-io/herd/server/proto"
)

// Create creates a znode (ops create 1, create2 15, createContainer 19 and
// createTTL 21; op decides how mode and ttl are read, as in ZooKeeper). It
// returns the created path (with the sequence suffix, if any) and its Stat.
//
// Checks run in ZooKeeper's order: flags and TTL (-8, or -6 for TTL modes when
// extended types are off), path shape (-8), ACL (-114), parent (-101), CREATE
// on the parent (-102), the suffixed path (-8), existence (-110) and an
// ephemeral parent (-108), then quota (-125, see quota.go).
//
// Op 1 and 15 with flag 4 create a plain persistent node and op 19 always a
// container, exactly as ZooKeeper's create transactions do; ttl is read only
// for op 21.
func (t *Tree) Create(tx Txn, c Caller, op proto.OpCode, path string, data []byte, acl []proto.ACL,
	mode proto.CreateMode, ttl int64) (string, proto.Stat, error) {
	k, ttl, err := t.createKind(op, mode, ttl)
	if err != nil {
		return "", proto.Stat{}, fmt.Errorf("create %q: %w", path, err)
	}
	created, n, err := t.create(tx, c, path, data, acl, mode, k, ttl)
	if err != nil {
		return "", proto.Stat{}, fmt.Errorf("create %q: %w", path, err)
	}
	return created, n.stat(), nil
}

// createKind validates op, flags and ttl (CreateMode.fromFlag,
// validateCreateRequest) and returns the kind of node the txn will create and
// the effective ttl (-1 unless op is createTTL, as ZooKeeper reads it).
func (t *Tree) createKind(op proto.OpCode, mode proto.CreateMode, ttl int64) (kind, int64, error) {
	if !mode.Valid() {
		return 0, 0, fmt.Errorf("flags %d: %w", mode, proto.ErrBadArguments)
	}
	if op != proto.OpCreateTTL {
		ttl = -1
	}
	if mode.TTL() && !t.opts.ExtendedTypes {
		return 0, 0, fmt.Errorf("TTL nodes are disabled: %w", proto.ErrUnimplemented)
	}
	if mode.TTL() {
		if ttl <= 0 || ttl > maxTTL {
			return 0, 0, fmt.Errorf("ttl %d: %w", ttl, proto.ErrBadArguments)
		}
	} else if ttl >= 0 {
		return 0, 0, fmt.Errorf("ttl %d with mode %d: %w", ttl, mode, proto.ErrBadArguments)
	}
	switch op {
	case proto.OpCreateContainer:
		return kindContainer, ttl, nil
	case proto.OpCreateTTL:
		if !mode.TTL() {
			// Only a negative ttl gets here; ZooKeeper then fails while
			// applying the txn and drops the connection. Refuse it up front.
			return 0, 0, fmt.Errorf("createTTL with mode %d: %w", mode, proto.ErrBadArguments)
		}
		return kindTTL, ttl, nil
	case proto.OpCreate, proto.OpCreate2:
		if mode.Ephemeral() {
			return kindEphemeral, ttl, nil
		}
		return kindPersistent, ttl, nil
	}
	return 0, 0, fmt.Errorf("op %v is not a create: %w", op, proto.ErrBadArguments)
}

// create runs the path, ACL and existence checks and applies the create.
func (t *Tree) create(tx Txn, c Caller, path string, data []byte, acl []proto.ACL,
	mode proto.CreateMode, k kind, ttl int64) (string, *node, error) {
	parentPath, _, ok := splitParent(path)
	if !ok {
		return "", nil, proto.ErrBadArguments
	}
	fixed, err := fixupACL(c, acl)
	if err != nil {
		return "", nil, err
	}
	parent := t.get(parentPath)
	if parent == nil {
		return "", nil, proto.ErrNoNode
	}
	if err := checkACL(c, parent.acls(), proto.PermCreate); err != nil {
		return "", nil, err
	}
	if mode.Sequential() {
		path += fmt.Sprintf("%010d", parent.cversion)
	}
	if err := ValidatePath(path); err != nil {
		return "", nil, err
	}
	if t.nodes.get(path) != nil {
		return "", nil, proto.ErrNodeExists
	}
	if parent.kind() == kindEphemeral {
		return "", nil, proto.ErrNoChildrenForEphemerals
	}
	if err := t.checkQuota(path, int64(len(data)), 1); err != nil {
		return "", nil, err
	}
	if len(path) > maxPathLen {
		return "", nil, proto.ErrBadArguments
	}
	var owner int64
	switch k {
	case kindEphemeral:
		owner = c.Session
	case kindTTL:
		owner = ttl
	}
	n := newNode(path, data, k, owner)
	n.acl, n.gen = t.aclCache.intern(fixed), t.gen
	n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime = tx.Zxid, tx.Zxid, tx.Zxid, tx.Time, tx.Time
	t.link(tx, n)
	path = n.path()
	return path, n, nil
}

// link inserts a checked new node under its parent and bumps the parent's
// stored cversion and pzxid.
func (t *Tree) link(tx Txn, n *node) {
	path := n.path()
	pp := parentOf(path)
	parent := t.own(t.get(pp))
	oldCv, oldPz := parent.cversion, parent.pzxid
	t.put(n)
	appendChild(parent, n)
	parent.cversion++
	parent.pzxid = tx.Zxid
	t.emit(proto.EventNodeCreated, path)
	t.emit(proto.EventNodeChildrenChanged, pp)
	if t.undo != nil {
		t.onUndo(func() {
			// n is the last child: taking it out moves no sibling.
			t.removeChild(pp, parent, n)
			parent.cversion, parent.pzxid = oldCv, oldPz
			t.remove(n)
		})
	}
	t.quotaCreated(path, n)
}
