package framework

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
)

// CreateMode is the kind of znode to create (values match go-zookeeper's
// Flag* constants and ZooKeeper's CreateMode).
type CreateMode int32

// Create modes.
const (
	ModePersistent                  CreateMode = zk.FlagPersistent
	ModeEphemeral                   CreateMode = zk.FlagEphemeral
	ModePersistentSequential        CreateMode = zk.FlagSequence
	ModeEphemeralSequential         CreateMode = zk.FlagEphemeralSequential
	ModeContainer                   CreateMode = zk.FlagContainer
	ModePersistentWithTTL           CreateMode = zk.FlagTTL
	ModePersistentSequentialWithTTL CreateMode = zk.FlagPersistentSequentialWithTTL
)

// Sequential reports whether the server appends a sequence number.
func (m CreateMode) Sequential() bool {
	return m == ModePersistentSequential || m == ModeEphemeralSequential || m == ModePersistentSequentialWithTTL
}

// Ephemeral reports whether the node lives only as long as the session.
func (m CreateMode) Ephemeral() bool { return m == ModeEphemeral || m == ModeEphemeralSequential }

// TTL reports whether the node carries a time-to-live.
func (m CreateMode) TTL() bool {
	return m == ModePersistentWithTTL || m == ModePersistentSequentialWithTTL
}

// CreateOption configures Create.
type CreateOption func(*createConfig)

type createConfig struct {
	mode             CreateMode
	acl              []zk.ACL
	parents          bool
	containerParents bool
	protected        bool
	ttl              time.Duration
}

// WithMode sets the node's create mode. The default is ModePersistent.
func WithMode(m CreateMode) CreateOption { return func(c *createConfig) { c.mode = m } }

// WithACL sets the node's ACL. The default is the client's default ACL (see
// WithDefaultACL).
func WithACL(acl []zk.ACL) CreateOption { return func(c *createConfig) { c.acl = acl } }

// WithParents creates missing ancestors as persistent nodes. The default
// fails with zk.ErrNoNode when the parent is missing.
func WithParents() CreateOption { return func(c *createConfig) { c.parents = true } }

// WithContainerParents creates missing ancestors as container nodes, which
// the server deletes once they are empty (what Curator's recipes use). The
// default fails with zk.ErrNoNode when the parent is missing.
func WithContainerParents() CreateOption { return func(c *createConfig) { c.containerParents = true } }

// WithProtection enables Curator's protected mode: the node name gets the
// prefix "_c_<uuid>-", and when the connection fails during the create the
// client looks for its node by that prefix instead of creating a second one.
// Use it for every sequential node that must not be orphaned (lock
// contenders). The default is an unprotected create.
func WithProtection() CreateOption { return func(c *createConfig) { c.protected = true } }

// WithTTL gives a persistent node a time-to-live (the server must enable
// extended types). A persistent or persistent-sequential mode is switched to
// its TTL variant. The default is no TTL.
func WithTTL(d time.Duration) CreateOption {
	return func(c *createConfig) { c.ttl = d }
}

// Create creates a node at p with data and returns its path (with the
// sequence number for sequential modes, relative to the namespace).
//
// Retries follow what is safe: a plain create is retried on connection loss
// and a NodeExists that turns out to be our own ephemeral node is success; an
// unprotected sequential create is retried only when the request provably
// never left the client, otherwise it fails with ErrMaybeApplied; a protected
// create recovers its node by name prefix (see WithProtection).
func (c *Client) Create(ctx context.Context, p string, data []byte, opts ...CreateOption) (string, error) {
	cfg := createConfig{mode: ModePersistent, acl: c.core.opts.acl}
	for _, o := range opts {
		o(&cfg)
	}
	if err := validatePath(p); err != nil {
		return "", wrapOp("create "+p, err)
	}
	if cfg.ttl > 0 {
		switch cfg.mode {
		case ModePersistent:
			cfg.mode = ModePersistentWithTTL
		case ModePersistentSequential:
			cfg.mode = ModePersistentSequentialWithTTL
		}
	}
	if cfg.mode.TTL() != (cfg.ttl > 0) {
		return "", fmt.Errorf("framework: create %s: %w: a TTL needs a persistent mode and a TTL mode needs WithTTL", p, zk.ErrInvalidFlags)
	}
	sp := fix(c.ns, p)
	var created string
	var err error
	if cfg.protected {
		created, err = c.createProtected(ctx, sp, data, cfg)
	} else {
		err = c.retry(ctx, "create", func(ctx context.Context, conn *zk.Conn, attempt int) error {
			var e error
			created, e = c.createOnce(ctx, conn, sp, data, cfg)
			return c.judgeCreate(ctx, conn, sp, cfg, attempt, e)
		})
		if err == nil && created == "" {
			created = sp // recovered our own node after a retry
		}
	}
	if err != nil {
		return "", fmt.Errorf("framework: create %s: %w", p, err)
	}
	return unfix(c.ns, created), nil
}

// judgeCreate decides whether a failed unprotected create may be repeated.
func (c *Client) judgeCreate(ctx context.Context, conn *zk.Conn, sp string, cfg createConfig, attempt int, err error) error {
	switch {
	case err == nil:
		return nil
	case cfg.mode.Sequential() && IsRetryable(err) && !notSent(err):
		return fmt.Errorf("%w: %w", ErrMaybeApplied, err)
	case attempt > 0 && cfg.mode.Ephemeral() && errors.Is(err, zk.ErrNodeExists):
		// An earlier attempt may have created it: ours if our session owns it.
		if c.ownsEphemeral(ctx, conn, sp) {
			return nil
		}
	}
	return err
}

// ownsEphemeral reports whether sp is an ephemeral node of the current session.
func (c *Client) ownsEphemeral(ctx context.Context, conn *zk.Conn, sp string) bool {
	st, err := call(ctx, c.core, func() (*zk.Stat, error) {
		_, st, err := conn.Exists(sp)
		return st, err
	})
	return err == nil && st != nil && st.EphemeralOwner != 0 && st.EphemeralOwner == conn.SessionID()
}

// createOnce sends one create (plus parent creation on NoNode when asked).
func (c *Client) createOnce(ctx context.Context, conn *zk.Conn, sp string, data []byte, cfg createConfig) (string, error) {
	p, err := c.rawCreate(ctx, conn, sp, data, cfg)
	if errors.Is(err, zk.ErrNoNode) && (cfg.parents || cfg.containerParents) {
		parent, _ := SplitPath(sp)
		if err := c.core.mkdirs(ctx, conn, parent, cfg.containerParents); err != nil {
			return "", err
		}
		p, err = c.rawCreate(ctx, conn, sp, data, cfg)
	}
	return p, err
}

func (c *Client) rawCreate(ctx context.Context, conn *zk.Conn, sp string, data []byte, cfg createConfig) (string, error) {
	return call(ctx, c.core, func() (string, error) {
		switch {
		case cfg.mode == ModeContainer:
			return conn.CreateContainer(sp, data, int32(cfg.mode), cfg.acl)
		case cfg.mode.TTL():
			return conn.CreateTTL(sp, data, int32(cfg.mode), cfg.acl, cfg.ttl)
		default:
			return conn.Create(sp, data, int32(cfg.mode), cfg.acl)
		}
	})
}
