// Package tree is herd's znode data tree: the deterministic state every
// replica applies log entries to.
//
// The tree implements ZooKeeper 3.8's semantics for creates, deletes, data and
// ACL changes, multi transactions, session close and container/TTL reaping:
// the same stat bumps, the same error codes in the same check order and the
// same sequence numbers. The tests drive the same scripts through a real
// Apache ZooKeeper and compare. Nothing here reads the clock, and no
// iteration order of a map or of the path index (whose hash seed is random)
// leaks into results, so replicas that apply the same writes end
// byte-for-byte equal (see WriteSnapshot).
//
// A Tree is not safe for concurrent use; the caller serialises access.
// Freeze (and Clone) are cheap, as znodes are shared copy-on-write, so a
// snapshot can be taken under the caller's lock and written out on another
// goroutine.
//
// Deliberate differences from ZooKeeper 3.8.0:
//   - exists checks READ on an existing node, as ZooKeeper 3.8.4+ does;
//   - quotas (-125) are not enforced;
//   - DeleteContainer re-checks that the node is still reapable at the
//     txn's time and refuses plain nodes (ZooKeeper would delete any
//     childless non-ephemeral node it is given);
//   - createTTL with a non-TTL flag and a negative ttl is refused with -8
//     (ZooKeeper fails while applying it and drops the connection);
//   - child lists are sorted (ZooKeeper returns hash order);
//   - ApproximateDataSize counts UTF-8 bytes, not UTF-16 units.
package tree
