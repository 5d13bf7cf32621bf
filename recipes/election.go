package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/election"
)

// NewLeaderLatch returns Curator's LeaderLatch for participant id on path
// (see election.Latch).
func NewLeaderLatch(c *framework.Client, path, id string, opts ...election.Option) *election.Latch {
	return election.NewLatch(c, path, id, opts...)
}

// NewLeaderSelector returns Curator's LeaderSelector for participant id on
// path (see election.Selector).
func NewLeaderSelector(c *framework.Client, path, id string, opts ...election.Option) *election.Selector {
	return election.NewSelector(c, path, id, opts...)
}
