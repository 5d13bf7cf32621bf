package lock

import "errors"

// ErrLocked is TryLock's answer when the lock is held by someone else
// (another process, or another goroutine using the same value).
var ErrLocked = errors.New("lock: held elsewhere")

// ErrNotHeld is returned by Unlock on a Mutex (or MultiLock) that does not
// hold the lock, and by Release on a lease already released.
var ErrNotHeld = errors.New("lock: not held")

// ErrInvalidArgument reports a bad argument at construction (a nil client,
// maxLeases < 1, no paths, the same path twice) or in a call (AcquireN with
// n outside 1..maxLeases). No node is created.
var ErrInvalidArgument = errors.New("lock: invalid argument")
