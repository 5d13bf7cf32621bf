package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/cache"
)

// NewTreeCache returns a cache of root and its descendants with Curator's
// CuratorCache semantics (see package cache). Start it, then read it with Get
// and Children, which never block.
func NewTreeCache(c *framework.Client, root string, opts ...cache.Option) (*cache.Tree, error) {
	return cache.NewTree(c, root, opts...)
}

// NewNodeCache returns a cache of the one node at path (see package cache).
func NewNodeCache(c *framework.Client, path string, opts ...cache.Option) (*cache.NodeCache, error) {
	return cache.NewNodeCache(c, path, opts...)
}
