// Package cluster is herd's replication seam. A Node owns everything Raft
// needs on one server — the raft instance, its stores (through
// server/storage), its transport, the bootstrap from zoo.cfg's server.N
// lines, membership and leadership — and offers the server a small API:
//
//   - Propose an entry (or a Stream of entries that must keep their order) and
//     wait for it to be applied on this node, with the state machine's result;
//   - WaitApplied until an index is applied here, and Sync to the leader's
//     commit point;
//   - State and Changed for who leads now, as events;
//   - CallLeader for the few duties only the leader performs (session
//     liveness), answered by handlers the server registers.
//
// It knows nothing about znodes or sessions: entries are opaque bytes applied
// to a raft.FSM. On a follower, Propose forwards the entry to the leader over
// herd's peer connection (the election port of server.N) and returns only
// after this node's own state machine has applied it, so a client that wrote
// through a follower reads its own write there.
//
// A Node with no members is a standalone server: one voter on an in-memory
// transport, so every write still goes through the log, fsync and apply path a
// cluster uses.
package cluster
