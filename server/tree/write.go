package tree

import (
	"fmt"

	"github.com/herd-io/herd/server/proto"
)

// Delete removes a znode. Checks run in ZooKeeper's order: path shape or a
// system node (-8), parent (-101), DELETE on the parent (-102), node (-101),
// version (-103; -1 matches any) and children (-111).
func (t *Tree) Delete(tx Txn, c Caller, path string, version int32) error {
	if err := t.delete(tx, c, path, version); err != nil {
		return fmt.Errorf("delete %q: %w", path, err)
	}
	return nil
}

func (t *Tree) delete(tx Txn, c Caller, path string, version int32) error {
	parentPath, _, ok := splitParent(path)
	if !ok || isSystemPath(path) {
		return proto.ErrBadArguments
	}
	parent := t.get(parentPath)
	if parent == nil {
		return proto.ErrNoNode
	}
	if err := checkACL(c, parent.acls(), proto.PermDelete); err != nil {
		return err
	}
	n := t.nodes.get(path)
	if n == nil {
		return proto.ErrNoNode
	}
	if err := checkVersion(n.version, version); err != nil {
		return err
	}
	if n.children != nil {
		return proto.ErrNotEmpty
	}
	t.unlink(tx, path, n)
	return nil
}

// checkVersion is checkAndIncVersion's test: -1 matches anything.
func checkVersion(current, expected int32) error {
	if expected != -1 && expected != current {
		return proto.ErrBadVersion
	}
	return nil
}

// unlink removes a checked, childless node from the tree.
func (t *Tree) unlink(tx Txn, path string, n *node) {
	pp := parentOf(path)
	parent := t.own(t.get(pp))
	oldPz := parent.pzxid
	t.remove(n)
	gap := t.removeChild(pp, parent, n)
	// Only move pzxid forward, as DataTree.deleteNode does.
	if tx.Zxid > parent.pzxid {
		parent.pzxid = tx.Zxid
	}
	t.emit(proto.EventNodeDeleted, path)
	t.emit(proto.EventNodeChildrenChanged, pp)
	if t.undo != nil {
		t.onUndo(func() {
			t.put(n)
			gap.putBack()
			parent.pzxid = oldPz
		})
	}
	t.quotaDeleted(path, n)
}

// SetData replaces a znode's data. Checks: path (-8), node (-101), WRITE
// (-102), quota (-125, see quota.go), version (-103).
func (t *Tree) SetData(tx Txn, c Caller, path string, data []byte, version int32) (proto.Stat, error) {
	n, err := t.setData(tx, c, path, data, version)
	if err != nil {
		return proto.Stat{}, fmt.Errorf("setData %q: %w", path, err)
	}
	return n.stat(), nil
}

func (t *Tree) setData(tx Txn, c Caller, path string, data []byte, version int32) (*node, error) {
	if err := ValidatePath(path); err != nil {
		return nil, err
	}
	n := t.nodes.get(path)
	if n == nil {
		return nil, proto.ErrNoNode
	}
	if err := checkACL(c, n.acls(), proto.PermWrite); err != nil {
		return nil, err
	}
	if err := t.checkQuota(path, int64(len(data)-n.dataLen()), 0); err != nil {
		return nil, err
	}
	if err := checkVersion(n.version, version); err != nil {
		return nil, err
	}
	n = t.own(n)
	old := *n
	oldLen := n.dataLen()
	t.replaceData(n, data)
	n.version++
	n.mzxid = tx.Zxid
	n.mtime = tx.Time
	t.emit(proto.EventNodeDataChanged, path)
	if t.undo != nil {
		t.onUndo(func() {
			n.version, n.mzxid, n.mtime = old.version, old.mzxid, old.mtime
		})
	}
	t.quotaDataChanged(path, oldLen, len(data))
	return n, nil
}

// replaceData gives n, this tree's own, a new buffer holding data (undone if
// a multi rolls back). The names that pointed into the old buffer (in the
// parent's children and the kind indexes) move to the new one, so the old
// buffer and its data can be freed.
func (t *Tree) replaceData(n *node, data []byte) {
	oldBuf, oldMeta := n.buf, n.meta
	diff := int64(len(data) - n.dataLen())
	t.dataSize += diff
	n.layout(n.path(), data, n.kind(), n.owner())
	t.renamed(n)
	if t.undo != nil {
		t.onUndo(func() {
			t.dataSize -= diff
			n.buf, n.meta = oldBuf, oldMeta
			t.renamed(n)
		})
	}
}

// renameCopyLimit is the widest child list renamed copies to move a name:
// 16 KB of names. A wider list shared with a snapshot keeps the old name.
const renameCopyLimit = 1024

// renamed points the strings that name n at its current buffer. The
// parent's name moves only when that costs no copy of a wide child list
// (the parent is this tree's own already, or has at most renameCopyLimit
// children): the first setData after a snapshot under a parent of 1M
// children would otherwise copy 16 MB under the state machine's lock. A
// name left behind keeps one older buffer of its node alive, until a later
// setData finds the parent this tree's own.
func (t *Tree) renamed(n *node) {
	path := n.path()
	if path != rootPath {
		parent := t.get(parentOf(path))
		if parent.gen == t.gen || len(parent.childNames()) <= renameCopyLimit {
			parent = t.own(parent)
			(*parent.children)[n.childIdx] = n.name()
		}
	}
	t.rekey(n)
}

// SetACL replaces a znode's ACL and bumps its aversion. Checks: path (-8), ACL
// (-114), node (-101), ADMIN (-102), aversion (-103). It fires no event.
func (t *Tree) SetACL(tx Txn, c Caller, path string, acl []proto.ACL, version int32) (proto.Stat, error) {
	if err := ValidatePath(path); err != nil {
		return proto.Stat{}, fmt.Errorf("setACL: %w", err)
	}
	fixed, err := fixupACL(c, acl)
	if err != nil {
		return proto.Stat{}, fmt.Errorf("setACL %q: %w", path, err)
	}
	n := t.nodes.get(path)
	if n == nil {
		return proto.Stat{}, fmt.Errorf("setACL %q: %w", path, proto.ErrNoNode)
	}
	if err := checkACL(c, n.acls(), proto.PermAdmin); err != nil {
		return proto.Stat{}, fmt.Errorf("setACL %q: %w", path, err)
	}
	if err := checkVersion(n.aversion, version); err != nil {
		return proto.Stat{}, fmt.Errorf("setACL %q: %w", path, err)
	}
	n = t.own(n)
	n.acl = t.aclCache.intern(fixed)
	n.aversion++
	return n.stat(), nil
}

// CloseSession deletes the session's ephemerals in sorted path order, all
// under tx's zxid, with the usual delete events.
func (t *Tree) CloseSession(tx Txn, session int64) {
	for _, p := range sortedKeys(t.ephemerals[session]) {
		if n := t.nodes.get(p); n != nil {
			t.unlink(tx, p, n)
		}
	}
}

// DeleteContainer reaps a container or TTL node (op 20). Beyond ZooKeeper's
// checks (path -8, node -101, children -111, normal ephemeral -103) it
// re-checks at tx.Time that the node is still reapable, since the scan that
// proposed it may be stale: a container must have had a child, a TTL node
// must be past its ttl; otherwise, and for any other kind of node, it
// returns ErrBadVersion and changes nothing.
func (t *Tree) DeleteContainer(tx Txn, path string) error {
	_, _, ok := splitParent(path)
	if !ok || isSystemPath(path) {
		return fmt.Errorf("deleteContainer %q: %w", path, proto.ErrBadArguments)
	}
	n := t.nodes.get(path)
	if n == nil {
		return fmt.Errorf("deleteContainer %q: %w", path, proto.ErrNoNode)
	}
	if n.children != nil {
		return fmt.Errorf("deleteContainer %q: %w", path, proto.ErrNotEmpty)
	}
	if !reapable(n, tx.Time) {
		return fmt.Errorf("deleteContainer %q: not an expired container or TTL node: %w", path, proto.ErrBadVersion)
	}
	t.unlink(tx, path, n)
	return nil
}

// SetConfig replaces the data of /zookeeper/config with a membership change
// applied at tx (ZooKeeper's DataTree.processReconfig): the version grows,
// watchers of the node are notified. No ACL applies: the change was
// authorised when it was proposed.
func (t *Tree) SetConfig(tx Txn, data []byte) (proto.Stat, error) {
	n, err := t.setData(tx, Caller{Super: true}, configPath, data, -1)
	if err != nil {
		return proto.Stat{}, fmt.Errorf("set %s: %w", configPath, err)
	}
	return n.stat(), nil
}
