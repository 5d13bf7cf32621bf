package framework

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"
)

// attemptFunc is one try of an operation; attempt counts from 0.
type attemptFunc func(ctx context.Context, conn *zk.Conn, attempt int) error

// retry runs op under the client's retry policy: before each attempt it waits
// (at most the connection timeout) for a connection, and it repeats op only
// while op fails with a retryable error (op itself decides what is safe to
// repeat by returning a non-retryable error). The last operation error is
// kept when ctx ends.
func (c *Client) retry(ctx context.Context, name string, op attemptFunc) error {
	cr := c.core
	attempt := 0
	var last error
	b := backoff.WithContext(cr.opts.retry.NewBackOff(), ctx)
	err := backoff.RetryNotify(func() error {
		cr.waitConnectedFor(ctx, cr.opts.connectionTimeout)
		conn, _, err := cr.current()
		if err != nil {
			return backoff.Permanent(err)
		}
		if err := c.ensureNamespace(ctx, conn); err != nil {
			last = err
			attempt++
			return permanentUnlessRetryable(err)
		}
		err = op(ctx, conn, attempt)
		attempt++
		if err == nil {
			return nil
		}
		last = err
		if cr.isClosed() {
			return backoff.Permanent(ErrClosed)
		}
		return permanentUnlessRetryable(err)
	}, b, func(err error, d time.Duration) {
		cr.log.Debug("retrying", zap.String("op", name), zap.Int("attempt", attempt), zap.Duration("sleep", d), zap.Error(err))
	})
	if err != nil && ctx.Err() != nil && last != nil && !errors.Is(err, last) {
		return errors.Join(err, last)
	}
	return err
}

func permanentUnlessRetryable(err error) error {
	if IsRetryable(err) {
		return err
	}
	return backoff.Permanent(err)
}

// call runs a blocking go-zookeeper call and returns early when ctx ends.
// go-zookeeper calls cannot be cancelled; an abandoned one finishes on a
// goroutine that Close waits for (a late write may still happen).
func call[T any](ctx context.Context, cr *core, f func() (T, error)) (T, error) {
	if ctx.Done() == nil {
		return f()
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	if !cr.spawn(func() {
		v, err := f()
		ch <- result{v, err}
	}) {
		var zero T
		return zero, ErrClosed
	}
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
