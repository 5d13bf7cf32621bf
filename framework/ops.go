package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/go-zookeeper/zk"
)

// Get returns the data and stat of the node at p.
func (c *Client) Get(ctx context.Context, p string) ([]byte, *zk.Stat, error) {
	if err := validatePath(p); err != nil {
		return nil, nil, wrapOp("get "+p, err)
	}
	sp := fix(c.ns, p)
	var data []byte
	var st *zk.Stat
	err := c.retry(ctx, "get", func(ctx context.Context, conn *zk.Conn, _ int) error {
		var err error
		data, st, err = callPair(ctx, c.core, func() ([]byte, *zk.Stat, error) { return conn.Get(sp) })
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("framework: get %s: %w", p, err)
	}
	return data, st, nil
}

// SetOption configures Set.
type SetOption interface{ applySet(*setConfig) }

type setConfig struct{ version int32 }

// Set writes data to the node at p and returns the new stat. With
// WithVersion it writes only if the node's version matches (zk.ErrBadVersion
// otherwise); by default any version is overwritten. A retry after
// connection loss that meets BadVersion checks whether the earlier attempt
// already wrote our data (version+1 and equal data) and then reports success.
func (c *Client) Set(ctx context.Context, p string, data []byte, opts ...SetOption) (*zk.Stat, error) {
	cfg := setConfig{version: -1}
	for _, o := range opts {
		o.applySet(&cfg)
	}
	version := cfg.version
	if err := validatePath(p); err != nil {
		return nil, wrapOp("set "+p, err)
	}
	sp := fix(c.ns, p)
	var st *zk.Stat
	err := c.retry(ctx, "set", func(ctx context.Context, conn *zk.Conn, attempt int) error {
		var err error
		st, err = call(ctx, c.core, func() (*zk.Stat, error) { return conn.Set(sp, data, version) })
		if attempt > 0 && version >= 0 && errors.Is(err, zk.ErrBadVersion) {
			cur, cst, gerr := callPair(ctx, c.core, func() ([]byte, *zk.Stat, error) { return conn.Get(sp) })
			if gerr == nil && cst.Version == version+1 && bytes.Equal(cur, data) {
				st = cst
				return nil
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("framework: set %s: %w", p, err)
	}
	return st, nil
}

// Exists returns the node's stat, or nil (and no error) if it does not exist.
func (c *Client) Exists(ctx context.Context, p string) (*zk.Stat, error) {
	if err := validatePath(p); err != nil {
		return nil, wrapOp("exists "+p, err)
	}
	sp := fix(c.ns, p)
	var st *zk.Stat
	err := c.retry(ctx, "exists", func(ctx context.Context, conn *zk.Conn, _ int) error {
		ok, s, err := callPair(ctx, c.core, func() (bool, *zk.Stat, error) { return conn.Exists(sp) })
		st = nil
		if ok {
			st = s
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("framework: exists %s: %w", p, err)
	}
	return st, nil
}

// Children returns the names of the node's children in server order.
func (c *Client) Children(ctx context.Context, p string) ([]string, *zk.Stat, error) {
	if err := validatePath(p); err != nil {
		return nil, nil, wrapOp("children "+p, err)
	}
	sp := fix(c.ns, p)
	var kids []string
	var st *zk.Stat
	err := c.retry(ctx, "children", func(ctx context.Context, conn *zk.Conn, _ int) error {
		var err error
		kids, st, err = callPair(ctx, c.core, func() ([]string, *zk.Stat, error) { return conn.Children(sp) })
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("framework: children %s: %w", p, err)
	}
	return kids, st, nil
}

// SortedChildren returns the node's children sorted by name.
func (c *Client) SortedChildren(ctx context.Context, p string) ([]string, error) {
	kids, _, err := c.Children(ctx, p)
	sort.Strings(kids)
	return kids, err
}

// Sync waits until the server this client talks to has caught up with the
// leader for p, so that a following read sees every write committed before.
func (c *Client) Sync(ctx context.Context, p string) error {
	if err := validatePath(p); err != nil {
		return wrapOp("sync "+p, err)
	}
	sp := fix(c.ns, p)
	err := c.retry(ctx, "sync", func(ctx context.Context, conn *zk.Conn, _ int) error {
		_, err := call(ctx, c.core, func() (string, error) { return conn.Sync(sp) })
		return err
	})
	if err != nil {
		return fmt.Errorf("framework: sync %s: %w", p, err)
	}
	return nil
}

// GetACL returns the node's ACL and stat.
func (c *Client) GetACL(ctx context.Context, p string) ([]zk.ACL, *zk.Stat, error) {
	if err := validatePath(p); err != nil {
		return nil, nil, wrapOp("get ACL "+p, err)
	}
	sp := fix(c.ns, p)
	var acl []zk.ACL
	var st *zk.Stat
	err := c.retry(ctx, "getACL", func(ctx context.Context, conn *zk.Conn, _ int) error {
		var err error
		acl, st, err = callPair(ctx, c.core, func() ([]zk.ACL, *zk.Stat, error) { return conn.GetACL(sp) })
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("framework: get ACL %s: %w", p, err)
	}
	return acl, st, nil
}

// SetACL replaces the node's ACL if its ACL version matches (-1: any).
func (c *Client) SetACL(ctx context.Context, p string, acl []zk.ACL, version int32) (*zk.Stat, error) {
	if err := validatePath(p); err != nil {
		return nil, wrapOp("set ACL "+p, err)
	}
	sp := fix(c.ns, p)
	var st *zk.Stat
	err := c.retry(ctx, "setACL", func(ctx context.Context, conn *zk.Conn, _ int) error {
		var err error
		st, err = call(ctx, c.core, func() (*zk.Stat, error) { return conn.SetACL(sp, acl, version) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("framework: set ACL %s: %w", p, err)
	}
	return st, nil
}

// callPair is call for go-zookeeper methods returning two values and an error.
func callPair[A, B any](ctx context.Context, cr *core, f func() (A, B, error)) (A, B, error) {
	type pair struct {
		a A
		b B
	}
	r, err := call(ctx, cr, func() (pair, error) {
		a, b, err := f()
		return pair{a, b}, err
	})
	return r.a, r.b, err
}
