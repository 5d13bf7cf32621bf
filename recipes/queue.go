package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/queue"
)

// NewQueue returns the FIFO queue at path (Curator's SimpleDistributedQueue
// layout): Put, PutAll, a blocking Take that hands each item to exactly one
// taker, Len.
func NewQueue(c *framework.Client, path string) *queue.Queue { return queue.NewQueue(c, path) }

// NewWorkQueue returns the job queue at path: Put, PutPriority, PutDelayed,
// and Consume, which removes an item only once its handler succeeded, retries
// failures with backoff and moves an item that keeps failing to the
// dead-letter child.
func NewWorkQueue(c *framework.Client, path string, opts ...queue.Option) *queue.WorkQueue {
	return queue.NewWorkQueue(c, path, opts...)
}
