package barrier

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
)

// ErrNilClient is returned by every method of a barrier built on a nil client.
var ErrNilClient = errors.New("barrier: nil client")

// ErrInvalidMembers is returned by a DoubleBarrier whose member count is below 1.
var ErrInvalidMembers = errors.New("barrier: members must be at least 1")

// Barrier is Curator's DistributedBarrier (and kazoo's Barrier): Wait blocks
// while the barrier's node exists. Its methods are safe for concurrent use.
type Barrier struct {
	c    *framework.Client
	path string
	err  error // a bad argument, returned by every method
}

// New returns the barrier at path. Invalid arguments are reported by every
// method (wrapping framework.ErrInvalidPath or ErrNilClient); nothing is sent
// to the server until a method is called.
func New(c *framework.Client, path string) *Barrier {
	return &Barrier{c: c, path: path, err: checkArgs(c, path)}
}

// Set closes the barrier by creating its node (missing parents become
// containers). Setting a closed barrier is not an error.
func (b *Barrier) Set(ctx context.Context) error {
	if b.err != nil {
		return b.err
	}
	_, err := b.c.Create(ctx, b.path, nil, framework.WithContainerParents())
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("barrier: set %s: %w", b.path, err)
	}
	return nil
}

// Remove opens the barrier by deleting its node, releasing every waiter.
// Removing an open barrier is not an error.
func (b *Barrier) Remove(ctx context.Context) error {
	if b.err != nil {
		return b.err
	}
	if err := b.c.Delete(ctx, b.path, framework.Quietly()); err != nil {
		return fmt.Errorf("barrier: remove %s: %w", b.path, err)
	}
	return nil
}

// Wait blocks until the barrier is open (its node does not exist) or ctx
// ends. It returns at once if the barrier is open, and also when the barrier
// is removed and set again before this waiter looked: each removal releases
// the waiters of that moment.
func (b *Barrier) Wait(ctx context.Context) error {
	if b.err != nil {
		return b.err
	}
	for {
		st, ch, err := b.c.ExistsW(ctx, b.path)
		if err != nil {
			return fmt.Errorf("barrier: wait %s: %w", b.path, err)
		}
		if st == nil {
			return nil
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNodeDeleted {
				return nil
			}
			// Data changed, or the watch ended with the session: look again.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// checkArgs validates a client and a recipe path. A recipe needs a node of
// its own, so the root is refused too. Namespace only validates the path and
// builds a view; it sends nothing.
func checkArgs(c *framework.Client, path string) error {
	if c == nil {
		return ErrNilClient
	}
	if _, err := c.Namespace(path); err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	if path == "/" {
		return fmt.Errorf("barrier: %w: the root cannot be a recipe's node", framework.ErrInvalidPath)
	}
	return nil
}
