package framework

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"
)

// Namespace returns a view of the client whose paths are all relative to ns
// (below this client's own namespace, if any), like a chroot: "/a" in the view
// is ns+"/a" on the server, and paths the view returns are relative again.
// The view shares the session, states and listeners of c; the namespace node
// is created (persistent, default ACL) on the view's first operation. Close
// the root client, not the view.
func (c *Client) Namespace(ns string) (*Client, error) {
	if err := validatePath(ns); err != nil {
		return nil, wrapOp("namespace "+ns, err)
	}
	if ns == "/" {
		ns = ""
	}
	return &Client{core: c.core, ns: c.ns + ns, view: true}, nil
}

// NamespacePath returns the server path of this client's namespace ("" for none).
func (c *Client) NamespacePath() string { return c.ns }

// ensureNamespace creates the namespace node once per view.
func (c *Client) ensureNamespace(ctx context.Context, conn *zk.Conn) error {
	if c.ns == "" {
		return nil
	}
	c.nsMu.Lock()
	defer c.nsMu.Unlock()
	if c.nsReady {
		return nil
	}
	if err := c.core.mkdirs(ctx, conn, c.ns, false); err != nil {
		return fmt.Errorf("create namespace %s: %w", c.ns, err)
	}
	c.nsReady = true
	return nil
}

// EnsurePathOption configures EnsurePath.
type EnsurePathOption func(*ensurePathConfig)

type ensurePathConfig struct{ containers bool }

// AsContainers makes EnsurePath create the missing nodes as containers,
// which the server deletes once they are empty (what Curator's recipes use
// for their parents). The default creates persistent nodes.
func AsContainers() EnsurePathOption { return func(c *ensurePathConfig) { c.containers = true } }

// EnsurePath creates p and any missing ancestors with empty data and the
// default ACL, as persistent nodes unless AsContainers is given. Existing
// nodes are left alone.
func (c *Client) EnsurePath(ctx context.Context, p string, opts ...EnsurePathOption) error {
	var cfg ensurePathConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := validatePath(p); err != nil {
		return wrapOp("ensure path "+p, err)
	}
	sp := fix(c.ns, p)
	err := c.retry(ctx, "ensurePath", func(ctx context.Context, conn *zk.Conn, _ int) error {
		return c.core.mkdirs(ctx, conn, sp, cfg.containers)
	})
	if err != nil {
		return fmt.Errorf("framework: ensure path %s: %w", p, err)
	}
	return nil
}

// mkdirs creates server path p and its missing ancestors, like Curator's
// ZKPaths.mkdirs: it walks up with exists to the deepest existing node (so no
// read access above it is needed), then creates downward ignoring NodeExists.
func (cr *core) mkdirs(ctx context.Context, conn *zk.Conn, p string, containers bool) error {
	var missing []string
	for q := p; q != "/"; q, _ = SplitPath(q) {
		ok, err := call(ctx, cr, func() (bool, error) {
			ok, _, err := conn.Exists(q)
			return ok, err
		})
		if err != nil {
			return err
		}
		if ok {
			break
		}
		missing = append(missing, q)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		q := missing[i]
		_, err := call(ctx, cr, func() (string, error) {
			if containers {
				return conn.CreateContainer(q, nil, zk.FlagContainer, cr.opts.acl)
			}
			return conn.Create(q, nil, zk.FlagPersistent, cr.opts.acl)
		})
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return err
		}
	}
	return nil
}
