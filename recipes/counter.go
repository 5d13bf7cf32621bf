package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/counter"
)

// NewSharedCount returns Curator's SharedCount at path, seeded with seed if
// the node does not exist when it starts (see package counter).
func NewSharedCount(c *framework.Client, path string, seed int32) (*counter.SharedCount, error) {
	return counter.NewSharedCount(c, path, seed)
}

// NewAtomicLong returns Curator's DistributedAtomicLong at path (see package
// counter).
func NewAtomicLong(c *framework.Client, path string, opts ...counter.AtomicOption) (*counter.AtomicLong, error) {
	return counter.NewAtomicLong(c, path, opts...)
}
