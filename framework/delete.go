package framework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"
)

// DeleteOption configures Delete.
type DeleteOption interface{ applyDelete(*deleteConfig) }

type deleteOptionFunc func(*deleteConfig)

func (f deleteOptionFunc) applyDelete(c *deleteConfig) { f(c) }

type deleteConfig struct {
	version    int32
	guaranteed bool
	recursive  bool
	quietly    bool
}

// VersionOption is the option WithVersion returns; it is both a
// DeleteOption and a SetOption.
type VersionOption struct{ version int32 }

func (o VersionOption) applyDelete(c *deleteConfig) { c.version = o.version }
func (o VersionOption) applySet(c *setConfig)       { c.version = o.version }

// WithVersion makes Delete or Set conditional on the node's version: they
// fail with zk.ErrBadVersion unless it is v. The default is -1, any version.
func WithVersion(v int32) VersionOption { return VersionOption{version: v} }

// Guaranteed keeps retrying the delete in the background, until it succeeds
// or the client closes, if it fails with a retryable error or ctx ends
// (Curator's guaranteed()). Delete still returns that error. Recipes use it to
// release their nodes. The default is a plain delete.
func Guaranteed() DeleteOption {
	return deleteOptionFunc(func(c *deleteConfig) { c.guaranteed = true })
}

// Recursive deletes the node's descendants first (deletingChildrenIfNeeded).
// The default deletes the node alone and fails with zk.ErrNotEmpty.
func Recursive() DeleteOption { return deleteOptionFunc(func(c *deleteConfig) { c.recursive = true }) }

// Quietly treats a missing node as success. The default fails with
// zk.ErrNoNode.
func Quietly() DeleteOption { return deleteOptionFunc(func(c *deleteConfig) { c.quietly = true }) }

// Delete deletes the node at p. A retry after connection loss that finds the
// node gone reports success, since the earlier attempt may have deleted it.
func (c *Client) Delete(ctx context.Context, p string, opts ...DeleteOption) error {
	cfg := deleteConfig{version: -1}
	for _, o := range opts {
		o.applyDelete(&cfg)
	}
	if err := validatePath(p); err != nil {
		return wrapOp("delete "+p, err)
	}
	sp := fix(c.ns, p)
	err := c.retry(ctx, "delete", func(ctx context.Context, conn *zk.Conn, attempt int) error {
		err := c.core.deleteOnce(ctx, conn, sp, cfg.version, cfg.recursive)
		if isNoNode(err) && (cfg.quietly || attempt > 0) {
			return nil
		}
		return err
	})
	if err != nil && cfg.guaranteed && (IsRetryable(err) || ctx.Err() != nil) {
		c.core.deleteInBackgroundVersion(sp, cfg.version, cfg.recursive)
	}
	if err != nil {
		return fmt.Errorf("framework: delete %s: %w", p, err)
	}
	return nil
}

func isNoNode(err error) bool { return errors.Is(err, zk.ErrNoNode) }

// deleteOnce deletes server path sp, children first when recursive.
func (cr *core) deleteOnce(ctx context.Context, conn *zk.Conn, sp string, version int32, recursive bool) error {
	if recursive {
		kids, err := call(ctx, cr, func() ([]string, error) {
			kids, _, err := conn.Children(sp)
			return kids, err
		})
		if err != nil {
			return err
		}
		for _, k := range kids {
			if err := cr.deleteOnce(ctx, conn, JoinPath(sp, k), -1, true); err != nil && !isNoNode(err) {
				return err
			}
		}
	}
	_, err := call(ctx, cr, func() (struct{}, error) { return struct{}{}, conn.Delete(sp, version) })
	if recursive && errors.Is(err, zk.ErrNotEmpty) {
		// A child appeared meanwhile: go again.
		return cr.deleteOnce(ctx, conn, sp, version, recursive)
	}
	return err
}

// deleteInBackground is a guaranteed delete of server path sp, any version.
func (cr *core) deleteInBackground(sp string) { cr.deleteInBackgroundVersion(sp, -1, false) }

// deleteInBackgroundVersion retries deleting sp until it is gone, a
// non-retryable error occurs, or the client closes.
func (cr *core) deleteInBackgroundVersion(sp string, version int32, recursive bool) {
	cr.spawn(func() {
		cr.untilDone("guaranteed delete", sp, func(ctx context.Context, conn *zk.Conn) error {
			err := cr.deleteOnce(ctx, conn, sp, version, recursive)
			if isNoNode(err) {
				return nil
			}
			return err
		})
	})
}

// findAndDeleteInBackground deletes every child of parent whose name starts
// with prefix: what a protected create left behind when it gave up.
func (cr *core) findAndDeleteInBackground(parent, prefix string) {
	cr.spawn(func() {
		cr.untilDone("find and delete protected", parent+"/"+prefix, func(ctx context.Context, conn *zk.Conn) error {
			return cr.findAndDeleteOnce(ctx, conn, parent, prefix)
		})
	})
}

// cleanupTimeout bounds how long a protected create whose context ended
// waits for its own node to be deleted before leaving that to the background.
const cleanupTimeout = 5 * time.Second

// findAndDelete removes what a protected create left behind when it gave up.
// When the create gave up because its context ended while connected (its
// request may have created the node just now), it deletes in the caller's
// time, bounded by cleanupTimeout, so that once the create returns no node of
// it is left for others to wait behind; otherwise, and if that fails, it is a
// guaranteed delete in the background.
func (cr *core) findAndDelete(ctx context.Context, parent, prefix string) {
	if ctx.Err() != nil && cr.currentState().IsConnected() {
		if conn, _, err := cr.current(); err == nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			err := cr.findAndDeleteOnce(dctx, conn, parent, prefix)
			cancel()
			if err == nil {
				return
			}
		}
	}
	cr.findAndDeleteInBackground(parent, prefix)
}

func (cr *core) findAndDeleteOnce(ctx context.Context, conn *zk.Conn, parent, prefix string) error {
	kids, err := call(ctx, cr, func() ([]string, error) {
		kids, _, err := conn.Children(parent)
		return kids, err
	})
	if isNoNode(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range kids {
		if strings.HasPrefix(k, prefix) {
			if err := cr.deleteOnce(ctx, conn, JoinPath(parent, k), -1, false); err != nil && !isNoNode(err) {
				return err
			}
		}
	}
	return nil
}

// untilDone repeats op, waiting for a connection before each try, while it
// fails with a retryable error. It stops when the client closes.
func (cr *core) untilDone(what, path string, op func(context.Context, *zk.Conn) error) {
	ctx := cr.ctx
	delay := 10 * time.Millisecond
	for {
		if err := cr.waitConnected(ctx); err != nil {
			return
		}
		conn, _, err := cr.current()
		if err != nil {
			return
		}
		err = op(ctx, conn)
		if err == nil {
			cr.log.Debug(what+" done", zap.String("path", path))
			return
		}
		if !IsRetryable(err) {
			cr.log.Warn(what+" gave up", zap.String("path", path), zap.Error(err))
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		if delay < time.Second {
			delay *= 2
		}
	}
}
