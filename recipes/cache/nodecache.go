package cache

import (
	"context"

	"github.com/herd-io/herd/framework"
)

// NodeCache caches one node (Curator's NodeCache, or CuratorCache with
// SINGLE_NODE_CACHE): a Tree of depth 0. Its events are those of the Tree,
// for that one node.
//
// Layout: the node at path, watched with getData (exists while it is
// absent); nothing is created. States as for Tree.
type NodeCache struct {
	t *Tree
}

// NewNodeCache returns a cache of the node at path. Nothing is read before
// Start.
func NewNodeCache(c *framework.Client, path string, opts ...Option) (*NodeCache, error) {
	t, err := NewTree(c, path, append(opts, WithMaxDepth(0))...)
	if err != nil {
		return nil, err
	}
	return &NodeCache{t: t}, nil
}

// Start begins watching in the background.
func (n *NodeCache) Start() error { return n.t.Start() }

// Listen registers fn for the node's events (see Tree.Listen).
func (n *NodeCache) Listen(fn func(Event)) (remove func()) { return n.t.Listen(fn) }

// Initialized is closed once the node was read the first time.
func (n *NodeCache) Initialized() <-chan struct{} { return n.t.Initialized() }

// AwaitInitialized waits for the first read (see Tree.AwaitInitialized).
func (n *NodeCache) AwaitInitialized(ctx context.Context) error { return n.t.AwaitInitialized(ctx) }

// Get returns the cached node, and false while it does not exist. It never
// blocks on the network.
func (n *NodeCache) Get() (Node, bool) { return n.t.Get(n.t.root) }

// Close stops the cache (see Tree.Close).
func (n *NodeCache) Close() error { return n.t.Close() }
