package tree

import "sort"

// reapable reports whether a childless node is due for deletion at now:
// a container that once had a child, or a TTL node idle for longer than its
// ttl (ContainerManager.getCandidates).
func reapable(n *node, now int64) bool {
	if n.children != nil {
		return false
	}
	switch n.kind() {
	case kindContainer:
		return n.cversion > 0
	case kindTTL:
		ttl := n.owner()
		return ttl != 0 && now-n.mtime > ttl
	}
	return false
}

// ExpiredNodes lists, sorted, the containers and TTL nodes that the leader's
// periodic scan should reap at time now (ms since the epoch): empty
// containers that once had a child and childless TTL nodes whose
// now − mtime exceeds their ttl.
func (t *Tree) ExpiredNodes(now int64) []string {
	var out []string
	for p := range t.containers {
		if reapable(t.nodes.get(p), now) {
			out = append(out, p)
		}
	}
	for p := range t.ttls {
		if reapable(t.nodes.get(p), now) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
