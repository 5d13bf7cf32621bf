package tree

import (
	"fmt"
	"sort"
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// Reads do not validate paths (ZooKeeper doesn't): an invalid path is simply
// not found. Returned data and ACL slices are shared with the tree and must
// not be modified.

// Exists returns the node's Stat: -8 for a path holding NUL, -101 if absent.
// It checks no permission, as ZooKeeper 3.8.0 (the reference herd is tested
// against) does; 3.8.4 added a READ check.
func (t *Tree) Exists(c Caller, path string) (proto.Stat, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return proto.Stat{}, fmt.Errorf("exists %q: %w", path, proto.ErrBadArguments)
	}
	n := t.get(path)
	if n == nil {
		return proto.Stat{}, fmt.Errorf("exists %q: %w", path, proto.ErrNoNode)
	}
	return n.stat(), nil
}

// readable returns the node at path if c has one of perm's bits on it.
func (t *Tree) readable(c Caller, path string, perm int32) (*node, error) {
	n := t.get(path)
	if n == nil {
		return nil, proto.ErrNoNode
	}
	if err := checkACL(c, n.acls(), perm); err != nil {
		return nil, err
	}
	return n, nil
}

// GetData returns the node's data (nil for a null buffer) and Stat; -101, -102
// (READ).
func (t *Tree) GetData(c Caller, path string) ([]byte, proto.Stat, error) {
	n, err := t.readable(c, path, proto.PermRead)
	if err != nil {
		return nil, proto.Stat{}, fmt.Errorf("getData %q: %w", path, err)
	}
	return n.data(), n.stat(), nil
}

// GetChildren returns the node's child names, sorted, and its Stat; -101,
// -102 (READ).
func (t *Tree) GetChildren(c Caller, path string) ([]string, proto.Stat, error) {
	n, err := t.readable(c, path, proto.PermRead)
	if err != nil {
		return nil, proto.Stat{}, fmt.Errorf("getChildren %q: %w", path, err)
	}
	return sortedNames(n.childNames()), n.stat(), nil
}

// GetACL returns the node's ACL and Stat. It needs READ or ADMIN (-102);
// without ADMIN, digest ids are masked to "user:x".
func (t *Tree) GetACL(c Caller, path string) ([]proto.ACL, proto.Stat, error) {
	n, err := t.readable(c, path, proto.PermRead|proto.PermAdmin)
	if err != nil {
		return nil, proto.Stat{}, fmt.Errorf("getACL %q: %w", path, err)
	}
	if allowed(c, n.acls(), proto.PermAdmin) {
		return n.acls(), n.stat(), nil
	}
	return maskACL(n.acls()), n.stat(), nil
}

// AllChildrenNumber counts every descendant of path (for "/", every node but
// the root); -101, -102 (READ).
func (t *Tree) AllChildrenNumber(c Caller, path string) (int32, error) {
	if _, err := t.readable(c, path, proto.PermRead); err != nil {
		return 0, fmt.Errorf("getAllChildrenNumber %q: %w", path, err)
	}
	if path == rootPath {
		return int32(t.nodes.len() - 1), nil
	}
	// ZooKeeper scans every key for the prefix; count the subtree instead.
	return int32(t.countBelow(path)), nil
}

func (t *Tree) countBelow(path string) int {
	n := t.get(path)
	c := 0
	for _, name := range n.childNames() {
		c += 1 + t.countBelow(path+"/"+name)
	}
	return c
}

// Ephemerals lists the session's ephemeral paths, sorted, keeping those that
// start with prefix; an empty, blank or "/" prefix keeps all (getEphemerals).
func (t *Tree) Ephemerals(session int64, prefix string) []string {
	all := t.ephemerals[session]
	p := strings.TrimSpace(prefix)
	out := make([]string, 0, len(all))
	for path := range all {
		if p == "" || p == rootPath || strings.HasPrefix(path, prefix) {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}

// Stat returns the node's Stat with no ACL check (for SetWatches catch-up).
func (t *Tree) Stat(path string) (proto.Stat, bool) {
	n := t.get(path)
	if n == nil {
		return proto.Stat{}, false
	}
	return n.stat(), true
}
