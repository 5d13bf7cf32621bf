// Package cache keeps a local, always readable copy of a znode or of a whole
// subtree in sync with ZooKeeper, with the semantics of Apache Curator's
// CuratorCache, built on one-shot watches as Curator's TreeCache is
// (go-zookeeper/zk cannot send addWatch).
//
// A Tree caches root and its descendants (to a maximum depth); a NodeCache
// caches one node. Listeners receive, in order: a NodeCreated for every node
// of the initial load, Initialized, then NodeCreated, NodeChanged and
// NodeDeleted as the tree changes. Get, Children and Nodes read the local copy
// and never wait on the network.
//
// # Layout
//
// A cache creates nothing: it reads whatever is under root.
//
//	<root>                data watch (getData), child watch (getChildren)
//	<root>/<a>            data watch, child watch
//	<root>/<a>/<b>        ... down to WithMaxDepth
//
// When root does not exist the cache holds an exists watch on it and loads it
// when it appears; a deleted root (for instance a container parent the server
// reaped, CURATOR-388) never stops the cache.
//
// # Order
//
// One goroutine reads and applies everything. It works in batches: it reads
// the nodes whose watches fired, then checks every watch again, and repeats
// until no watch fired during a pass. ZooKeeper sends a watch notification
// before any reply that reflects later state (framework.Client.GetWRaw), so
// when a batch ends quiet, every change with a zxid at or below its last read
// has been seen. The batch's events are then sorted by zxid (creations by
// czxid, so a parent always comes before its child; changes by mzxid;
// deletions, whose zxid ZooKeeper does not report, by the parent's pzxid,
// which is at or after the delete) and delivered. Several writes to one node
// between two reads are reported once, with the latest data, as in Curator
// and kazoo. Under a write storm a batch is cut after 100 passes; its order is
// then best effort.
//
// A node deleted and re-created while the cache was not looking (a different
// czxid) is reported as NodeDeleted then NodeCreated, not as a change
// (CURATOR-391). A child that vanishes before its data is read is never
// reported and does not hold up Initialized (CURATOR-476). There is no limit
// on the number of children (CURATOR-690): nothing counts outstanding reads.
//
// # Connection states
//
//   - SUSPENDED: a ConnectionSuspended event; the copy is kept as it is and
//     may go stale; reads of fired watches wait for the connection.
//   - RECONNECTED (same session): a ConnectionReconnected event, then every
//     cached node is read again; events follow for what changed meanwhile and
//     nothing else.
//   - LOST: a ConnectionLost event; the copy is kept (Curator does the same).
//     On the RECONNECTED that follows, with a new session, the whole tree is
//     read again, events are delivered for every difference (ephemeral nodes
//     of the old session show up as NodeDeleted), and Initialized is
//     delivered again once the rebuild is complete. The new session may serve
//     the cache's reads before the client has reported LOST, so some of
//     those differences can come before the ConnectionLost event.
package cache
