package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/barrier"
)

// NewBarrier returns the barrier at path (Curator's DistributedBarrier): Set
// closes it, Remove opens it, Wait blocks while it is closed.
func NewBarrier(c *framework.Client, path string) *barrier.Barrier { return barrier.New(c, path) }

// NewDoubleBarrier returns member id of the double barrier at path (Curator's
// DistributedDoubleBarrier): Enter blocks until members members have entered,
// Leave until all have left.
func NewDoubleBarrier(c *framework.Client, path, id string, members int) *barrier.DoubleBarrier {
	return barrier.NewDouble(c, path, id, members)
}
