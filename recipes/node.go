package recipes

import (
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/node"
)

// NewPersistentNode returns Curator's PersistentNode: a node at path in mode
// kept present while it is open, also across session loss (see package node).
func NewPersistentNode(c *framework.Client, mode framework.CreateMode, path string, data []byte, opts ...node.Option) (*node.Node, error) {
	return node.New(c, mode, path, data, opts...)
}

// NewPersistentTTLNode returns Curator's PersistentTtlNode (see package node).
func NewPersistentTTLNode(c *framework.Client, path string, ttl time.Duration, data []byte) (*node.TTLNode, error) {
	return node.NewTTL(c, path, ttl, data)
}
