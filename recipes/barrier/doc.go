// Package barrier holds the two barrier recipes, with Apache Curator's znode
// layouts so that Go, Java (Curator) and Python (kazoo) processes can share
// one barrier.
//
// A Barrier holds every waiter back while its node exists:
//
//	<path>            persistent; present = closed (Set), absent = open (Remove)
//
// A DoubleBarrier makes a group of members start together (Enter returns once
// members have entered) and finish together (Leave returns once every member
// has left):
//
//	<path>/                       container
//	├── <uuid>                    ephemeral, one per member, data = the member id
//	└── ready                     persistent, created by the member whose entry
//	                              completes the count; deleted by the first leaver
//
// Member names are random UUIDs (Curator uses the 36-character form, kazoo 32
// hex digits; both treat the names as opaque), and both libraries use the
// same "ready" node, so the three implementations interoperate.
//
// Connection states. Every blocking call takes a context and returns its
// error when it ends; a DoubleBarrier waiter whose context ends deletes its
// member node. Operations that fail with a connection error are retried by
// the client's retry policy (and returned once it gives up).
//   - SUSPENDED: waits go on; go-zookeeper restores their watches when the
//     connection comes back.
//   - RECONNECTED (same session): nothing to do; a node change missed while
//     disconnected fires the restored watch.
//   - LOST: the session's watches end and the waiter looks again in the new
//     session. A DoubleBarrier member node is ephemeral and goes with the
//     session: Enter creates it again in the new session and keeps waiting;
//     Leave treats it as gone and waits for the remaining members.
package barrier
