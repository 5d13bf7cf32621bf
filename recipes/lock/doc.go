// Package lock holds herd's lock recipes on framework: Mutex (Curator's
// InterProcessMutex), RWMutex (InterProcessReadWriteLock), Semaphore
// (InterProcessSemaphoreV2) and MultiLock (InterProcessMultiLock). They use
// Curator's znode names and ordering, so Go and Curator (Java) processes
// locking the same path exclude each other; each type's comment draws its
// layout.
//
// What they add to Curator's:
//
//   - every blocking call takes a context, and a waiter whose context ends
//     removes its node, so it never blocks the waiters behind it;
//   - Lost, a channel closed the moment a hold can no longer be trusted:
//     when the connection has been SUSPENDED longer than a grace (default 0)
//     or the session is LOST;
//   - Token, a fencing token (the lock node's creation zxid) that grows with
//     every hold of a lock path, for stores that can refuse a stale holder;
//   - a Mutex value excludes the goroutines that share it, as sync.Mutex
//     does; Curator's per-thread re-entrancy is the explicit Reentrant option.
//
// Nodes are created in protected mode ("_c_<uuid>-" names), so a create
// whose reply was lost is found again, and a node of an expired session is
// never taken for ours; releases are guaranteed deletes. Each waiter watches
// only the node before it, so a release wakes one waiter (no herd effect).
// Bad arguments (a nil client, an invalid path, maxLeases < 1) are errors
// from every call, wrapping ErrInvalidArgument or framework.ErrInvalidPath,
// and no node is created.
//
// A lock that was lost without Unlock leaves its node until its session
// ends; Unlock it (even after Lost) to let the next waiter in at once.
//
// Cost: a Lock on a free path is three round trips in a row (create; then
// the listing and the node's own stat, for the token and the owner check,
// side by side) and Unlock is one (delete). A waiter sets one watch and,
// when a release wakes it, sends one listing before it holds, so a
// hand-off costs a delete, its watch event and one read: the same chain as
// go-zookeeper's zk.Lock.
//
// Usage:
//
//	m := lock.NewMutex(client, "/locks/job")
//	if err := m.Lock(ctx); err != nil {
//		return err
//	}
//	defer m.Unlock(context.WithoutCancel(ctx))
//	work, cancel := context.WithCancel(ctx)
//	defer cancel()
//	go func() { <-m.Lost(); cancel() }() // stop working when the hold is lost
//	return store.Write(work, m.Token(), data)
package lock
