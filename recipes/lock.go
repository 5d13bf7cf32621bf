package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/lock"
)

// NewLock returns Curator's InterProcessMutex on path (see lock.Mutex).
func NewLock(c *framework.Client, path string, opts ...lock.Option) *lock.Mutex {
	return lock.NewMutex(c, path, opts...)
}

// NewReadWriteLock returns Curator's InterProcessReadWriteLock on path (see
// lock.RWMutex).
func NewReadWriteLock(c *framework.Client, path string, opts ...lock.Option) *lock.RWMutex {
	return lock.NewRWMutex(c, path, opts...)
}

// NewSemaphore returns Curator's InterProcessSemaphoreV2 on path allowing
// maxLeases leases (see lock.Semaphore).
func NewSemaphore(c *framework.Client, path string, maxLeases int, opts ...lock.Option) *lock.Semaphore {
	return lock.NewSemaphore(c, path, maxLeases, opts...)
}

// NewMultiLock returns Curator's InterProcessMultiLock over a Mutex for each
// path, taken in order and released in reverse (see lock.MultiLock).
func NewMultiLock(c *framework.Client, paths ...string) *lock.MultiLock {
	return lock.NewMultiLock(c, paths)
}
