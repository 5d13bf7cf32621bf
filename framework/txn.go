package framework

import (
	"context"
	"fmt"

	"github.com/go-zookeeper/zk"
)

// Txn builds a transaction (ZooKeeper multi): all operations succeed or none.
// Build it with Client.Txn, add operations, then Commit.
type Txn struct {
	c     *Client
	ops   []any
	paths []string
	err   error
}

// TxnResult is the outcome of one operation of a committed transaction.
type TxnResult struct {
	// Path is the path given to the operation (relative to the namespace).
	Path string
	// Created is the created node's path for creates (with sequence number).
	Created string
	// Stat is set for set-data operations.
	Stat *zk.Stat
	// Err is the operation's own error when the transaction failed.
	Err error
}

// Txn starts a transaction on c.
func (c *Client) Txn() *Txn { return &Txn{c: c} }

func (t *Txn) add(p string, op any) *Txn {
	if err := validatePath(p); err != nil && t.err == nil {
		t.err = err
	}
	t.paths = append(t.paths, p)
	t.ops = append(t.ops, op)
	return t
}

// Create adds a create of p. Only persistent, ephemeral and sequential modes
// are allowed in a transaction (as in Curator, no protection or parents).
func (t *Txn) Create(p string, data []byte, mode CreateMode, acl []zk.ACL) *Txn {
	if acl == nil {
		acl = t.c.core.opts.acl
	}
	if mode.TTL() || mode == ModeContainer {
		t.err = fmt.Errorf("create %s: %w: mode %d", p, zk.ErrInvalidFlags, mode)
	}
	return t.add(p, &zk.CreateRequest{Path: fix(t.c.ns, p), Data: data, Acl: acl, Flags: int32(mode)})
}

// Delete adds a delete of p at version (-1: any).
func (t *Txn) Delete(p string, version int32) *Txn {
	return t.add(p, &zk.DeleteRequest{Path: fix(t.c.ns, p), Version: version})
}

// Set adds a set-data of p at version (-1: any).
func (t *Txn) Set(p string, data []byte, version int32) *Txn {
	return t.add(p, &zk.SetDataRequest{Path: fix(t.c.ns, p), Data: data, Version: version})
}

// Check adds a check that p has version.
func (t *Txn) Check(p string, version int32) *Txn {
	return t.add(p, &zk.CheckVersionRequest{Path: fix(t.c.ns, p), Version: version})
}

// Commit sends the transaction. It is retried only while the request provably
// never left the client; after a connection loss that may have applied it,
// Commit fails with ErrMaybeApplied (a whole multi is not idempotent). When the
// server rejects it, the error is the failing operation's (errors.Is against
// zk.ErrNodeExists etc.); go-zookeeper then returns no per-operation results.
func (t *Txn) Commit(ctx context.Context) ([]TxnResult, error) {
	if t.err != nil {
		return nil, wrapOp("txn", t.err)
	}
	c := t.c
	var res []zk.MultiResponse
	err := c.retry(ctx, "txn", func(ctx context.Context, conn *zk.Conn, _ int) error {
		var err error
		res, err = call(ctx, c.core, func() ([]zk.MultiResponse, error) { return conn.Multi(t.ops...) })
		if IsRetryable(err) && !notSent(err) {
			return fmt.Errorf("%w: %w", ErrMaybeApplied, err)
		}
		return err
	})
	out := make([]TxnResult, len(res))
	for i, r := range res {
		out[i] = TxnResult{Path: t.paths[i], Stat: r.Stat, Err: r.Error}
		if r.String != "" {
			out[i].Created = unfix(c.ns, r.String)
		}
	}
	if err != nil {
		return out, fmt.Errorf("framework: txn: %w", err)
	}
	return out, nil
}
