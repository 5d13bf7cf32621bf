package counter

import "context"

// Locker is the lock AtomicLong promotes to. recipes/lock's *lock.Mutex
// (Curator's InterProcessMutex, the default, at <path>-lock) satisfies it.
type Locker interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
}
