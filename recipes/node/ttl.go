package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// TouchName is the keep-alive child of a TTLNode (Curator's default).
const TouchName = "touch"

// TTLNode is Curator's PersistentTtlNode: a PERSISTENT_WITH_TTL node kept by
// a Node, plus a child <path>/touch (also with the TTL) whose data is set
// every ttl/2. While the process lives the child keeps the parent from being
// reaped; once it dies the child expires after the TTL, and then the
// childless parent. The server must have TTL nodes enabled.
//
// Connection states are those of Node; a touch that fails while SUSPENDED is
// simply tried again at the next tick.
type TTLNode struct {
	n     *Node
	ttl   time.Duration
	touch string

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewTTL returns a TTL node at path with data. ttl must be positive.
func NewTTL(c *framework.Client, path string, ttl time.Duration, data []byte) (*TTLNode, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("node: TTL %v must be positive", ttl)
	}
	n, err := New(c, framework.ModePersistentWithTTL, path, data, WithTTL(ttl))
	if err != nil {
		return nil, err
	}
	return &TTLNode{n: n, ttl: ttl, touch: framework.JoinPath(path, TouchName)}, nil
}

// Start creates the node in the background and starts touching its child.
func (t *TTLNode) Start() error {
	if err := t.n.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.mu.Lock()
	t.cancel, t.done = cancel, make(chan struct{})
	done := t.done
	t.mu.Unlock()
	go func() {
		defer close(done)
		tick := time.NewTicker(t.ttl / 2)
		defer tick.Stop()
		for {
			t.touchOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.n.c.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

// touchOnce sets the touch child's data, creating it if needed.
func (t *TTLNode) touchOnce(ctx context.Context) {
	if t.n.WaitForInitialCreate(ctx) != nil {
		return
	}
	c := t.n.c
	_, err := c.Set(ctx, t.touch, nil)
	if errors.Is(err, zk.ErrNoNode) {
		_, err = c.Create(ctx, t.touch, nil, framework.WithTTL(t.ttl))
	}
	if err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrNodeExists) && ctx.Err() == nil {
		t.n.log.Debug("touch failed", zap.String("path", t.touch), zap.Error(err))
	}
}

// WaitForInitialCreate waits for the node's first create.
func (t *TTLNode) WaitForInitialCreate(ctx context.Context) error {
	return t.n.WaitForInitialCreate(ctx)
}

// Path returns the node's path.
func (t *TTLNode) Path() string { return t.n.Path() }

// SetData changes the node's data.
func (t *TTLNode) SetData(ctx context.Context, data []byte) error { return t.n.SetData(ctx, data) }

// Close stops touching, deletes the touch child and the node.
func (t *TTLNode) Close(ctx context.Context) error {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	t.cancel = nil
	t.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if err := t.n.c.Delete(ctx, t.touch, framework.Quietly()); err != nil {
		return fmt.Errorf("node: delete %s: %w", t.touch, err)
	}
	return t.n.Close(ctx)
}
