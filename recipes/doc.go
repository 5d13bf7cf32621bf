// Package recipes is the front door to herd's coordination recipes: one-line
// constructors over the packages that implement them, built on a
// framework.Client and working unchanged against herd and Apache ZooKeeper.
//
//	m := recipes.NewLock(client, "/locks/job")
//	if err := m.Lock(ctx); err != nil {
//		return err
//	}
//	defer m.Unlock(context.WithoutCancel(ctx))
//
// The recipes use Apache Curator's znode layouts, node data and ordering, so
// Go and Java (Curator) processes can share one lock, one election or one
// queue:
//
//	Recipe                Package   Curator equivalent           Nodes under path
//	NewLock               lock      InterProcessMutex            _c_<uuid>-lock-<seq>
//	NewReadWriteLock      lock      InterProcessReadWriteLock    _c_<uuid>-__READ__<seq>, _c_<uuid>-__WRIT__<seq>
//	NewSemaphore          lock      InterProcessSemaphoreV2      locks/_c_<uuid>-lock-<seq>, leases/_c_<uuid>-lease-<seq>
//	NewMultiLock          lock      InterProcessMultiLock        one lock per path
//	NewLeaderLatch        election  LeaderLatch                  _c_<uuid>-latch-<seq>, data = id
//	NewLeaderSelector     election  LeaderSelector               _c_<uuid>-lock-<seq>, data = id
//	NewBarrier            barrier   DistributedBarrier           the node path itself (exists = closed)
//	NewDoubleBarrier      barrier   DistributedDoubleBarrier     <uuid> per member, ready
//	NewQueue              queue     SimpleDistributedQueue       qn-<seq>
//	NewWorkQueue          queue     (none; a job queue)          items/, claims/, producers/, consumers/, dead/
//	NewTreeCache          cache     CuratorCache / TreeCache     reads and watches only
//	NewNodeCache          cache     NodeCache                    reads and watches only
//	NewSharedCount        counter   SharedCount                  the path, 4-byte big-endian int32
//	NewAtomicLong         counter   DistributedAtomicLong        the path, 8-byte big-endian int64
//	NewGroupMember        group     GroupMember                  <id>, data = payload
//	NewPersistentNode     node      PersistentNode               the path, in any create mode
//	NewPersistentTTLNode  node      PersistentTtlNode            the path, and touch
//	NewServiceDiscovery   discovery ServiceDiscovery             <name>/<id>, Curator's JSON
//
// Contracts every recipe keeps:
//
//   - every blocking call takes a context, and a waiter whose context ends
//     removes its node, so it never blocks those behind it;
//   - each waiter watches only its predecessor, so a release wakes only the
//     waiters it lets through (no herd effect);
//   - creates are protected ("_c_<uuid>-" names): a create whose reply was
//     lost is found again, and a node left by an expired session is never
//     taken for ours; releases are guaranteed deletes;
//   - holders of exclusive rights (locks, leadership) stop trusting them when
//     the connection has been SUSPENDED longer than a grace (default 0: at
//     once, Curator's standard error policy) or the session is LOST: a
//     lock's Lost channel closes, a selector's lead context is cancelled, a
//     latch reports false. Fencing tokens (Token, the node's creation zxid)
//     let a store refuse a holder that has not noticed yet;
//   - bad arguments are errors from construction or first use (wrapping
//     framework.ErrInvalidPath or the package's ErrInvalidArgument), never a
//     panic, and no node is created.
//
// Each type's doc comment draws its layout and says what it does on
// SUSPENDED, RECONNECTED and LOST.
package recipes
