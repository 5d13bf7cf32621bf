package tree

import (
	"strconv"
	"strings"

	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/quota"
)

// Quotas, as ZooKeeper 3.8 keeps them (DataTree, ZooKeeperServer.checkQuota).
//
// A path P has a quota while /zookeeper/quota<P>/zookeeper_limits exists. A
// write to P or below it changes the usage in the deepest quota'd ancestor's
// zookeeper_stats node: create adds one node and its data length, delete
// takes them away, setData adds the change in length. The stats node's data
// changes in place, without a new version or a watch event, as in ZooKeeper.
// Creating a zookeeper_stats node sets its data to the subtree's real usage,
// whatever the creator wrote.
//
// Everything is derived from the tree itself (there is no separate index as
// ZooKeeper's PathTrie), so clones, snapshots and replicas agree by
// construction.
//
// Limits are checked before a create or setData (after its other checks but
// the version's, in ZooKeeper's order). A count or byte limit crossed is
// reported to Options.QuotaExceeded; a hard limit (countHardLimit,
// byteHardLimit) also fails the write with QuotaExceeded when
// Options.EnforceQuota is set. Where a hard limit is set the soft one of the
// same kind is not checked, as in ZooKeeper. Deletes are never refused.

// QuotaExceeded describes a write that takes a quota'd subtree over a limit.
type QuotaExceeded struct {
	// Prefix is the quota'd path.
	Prefix string
	// Kind is quota.Count or quota.Bytes.
	Kind string
	// Current is the usage the write would make; Limit the limit it crosses.
	Current, Limit int64
	// Hard reports a hard limit; Refused that the write was refused for it.
	Hard, Refused bool
}

// String is ZooKeeper's log line: "Quota exceeded: /a [current count=3, softCountLimit=2]".
func (q QuotaExceeded) String() string {
	level, kind := "soft", "Count"
	if q.Hard {
		level = "hard"
	}
	if q.Kind == quota.Bytes {
		kind = "Byte"
	}
	return "Quota exceeded: " + q.Prefix + " [current " + q.Kind + "=" + strconv.FormatInt(q.Current, 10) + ", " +
		level + kind + "Limit=" + strconv.FormatInt(q.Limit, 10) + "]"
}

// quotaPrefix returns the deepest path at or above path that has a quota
// (DataTree.getMaxPrefixWithQuota), or "". The root never has one.
func (t *Tree) quotaPrefix(path string) string {
	if q := t.nodes.get(quotaPath); q == nil || q.children == nil {
		return "" // no quota anywhere: the common case costs one lookup
	}
	for p := path; p != rootPath && p != ""; p = parentOf(p) {
		if t.nodes.get(quota.LimitPath(p)) != nil {
			return p
		}
	}
	return ""
}

// checkQuota runs ZooKeeperServer.checkQuota for a write adding countDiff
// nodes and bytesDiff bytes under path.
func (t *Tree) checkQuota(path string, bytesDiff, countDiff int64) error {
	prefix := t.quotaPrefix(path)
	if prefix == "" {
		return nil
	}
	limits, ok := t.quotaRecord(quota.LimitPath(prefix))
	if !ok {
		return nil
	}
	checkCount := countDiff != 0 && (limits.Get(quota.Count) > -1 || limits.Get(quota.CountHardLimit) > -1)
	checkBytes := bytesDiff != 0 && (limits.Get(quota.Bytes) > -1 || limits.Get(quota.ByteHardLimit) > -1)
	if !checkCount && !checkBytes {
		return nil
	}
	stats, ok := t.quotaRecord(quota.StatPath(prefix))
	if !ok {
		return nil
	}
	if checkCount {
		if err := t.overLimit(prefix, quota.Count, stats.Get(quota.Count)+countDiff,
			limits.Get(quota.Count), limits.Get(quota.CountHardLimit)); err != nil {
			return err
		}
	}
	if checkBytes {
		return t.overLimit(prefix, quota.Bytes, stats.Get(quota.Bytes)+bytesDiff,
			limits.Get(quota.Bytes), limits.Get(quota.ByteHardLimit))
	}
	return nil
}

func (t *Tree) overLimit(prefix, kind string, current, soft, hard int64) error {
	q := QuotaExceeded{Prefix: prefix, Kind: kind, Current: current, Limit: soft, Hard: hard > -1}
	if q.Hard {
		q.Limit = hard
	}
	if current <= q.Limit {
		return nil
	}
	q.Refused = q.Hard && t.opts.EnforceQuota
	if f := t.opts.QuotaExceeded; f != nil {
		f(q)
	}
	if q.Refused {
		return proto.ErrQuotaExceeded
	}
	return nil
}

// quotaRecord parses the quota node at p; ok is false when it is missing or
// unreadable (ZooKeeper would log and skip, or throw).
func (t *Tree) quotaRecord(p string) (quota.Stats, bool) {
	n := t.nodes.get(p)
	if n == nil {
		return quota.Stats{}, false
	}
	s, err := quota.Parse(n.data())
	return s, err == nil
}

// quotaCreated is the create hook (DataTree.createNode): a new stats node
// gets the subtree's real usage, then the new node counts toward its quota.
func (t *Tree) quotaCreated(path string, n *node) {
	parent, name := parentOf(path), path[strings.LastIndexByte(path, '/')+1:]
	if name == quota.StatNode && strings.HasPrefix(parent, quotaPath) {
		t.recountQuota(strings.TrimPrefix(parent, quotaPath), path)
	}
	if prefix := t.quotaPrefix(path); prefix != "" {
		t.addQuotaUsage(prefix, int64(n.dataLen()), 1)
	}
}

// quotaDeleted is the delete hook.
func (t *Tree) quotaDeleted(path string, n *node) {
	if prefix := t.quotaPrefix(path); prefix != "" {
		t.addQuotaUsage(prefix, -int64(n.dataLen()), -1)
	}
}

// quotaDataChanged is the setData hook.
func (t *Tree) quotaDataChanged(path string, oldLen, newLen int) {
	if prefix := t.quotaPrefix(path); prefix != "" {
		t.addQuotaUsage(prefix, int64(newLen-oldLen), 0)
	}
}

// addQuotaUsage is DataTree.updateQuotaStat.
func (t *Tree) addQuotaUsage(prefix string, bytesDiff, countDiff int64) {
	sp := quota.StatPath(prefix)
	stats, ok := t.quotaRecord(sp)
	if !ok {
		return
	}
	stats.Set(quota.Count, stats.Get(quota.Count)+countDiff)
	stats.Set(quota.Bytes, stats.Get(quota.Bytes)+bytesDiff)
	t.setQuotaData(sp, stats.Data())
}

// recountQuota is DataTree.updateQuotaForPath: the stats node at sp gets
// "count=N,bytes=M" for the subtree at path (0 and 0 if it does not exist).
func (t *Tree) recountQuota(path, sp string) {
	var s quota.Stats
	var count, bytes int64
	if path == "" {
		path = rootPath
	}
	var walk func(p string)
	walk = func(p string) {
		n := t.nodes.get(p)
		if n == nil {
			return
		}
		count++
		bytes += int64(n.dataLen())
		for _, c := range n.childNames() {
			walk(childPath(p, c))
		}
	}
	walk(path)
	s.Set(quota.Count, count)
	s.Set(quota.Bytes, bytes)
	t.setQuotaData(sp, s.Data())
}

// setQuotaData replaces a quota node's data in place (no version, no event),
// undone if a multi rolls back.
func (t *Tree) setQuotaData(p string, data []byte) {
	n := t.nodes.get(p)
	if n == nil {
		return
	}
	t.replaceData(t.own(n), data)
}
