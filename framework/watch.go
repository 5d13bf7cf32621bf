package framework

import (
	"context"
	"fmt"

	"github.com/go-zookeeper/zk"
)

// The *W methods set one-shot ZooKeeper watches, like go-zookeeper's, with
// paths relative to the namespace. The channel receives exactly one event and
// is then closed. go-zookeeper re-registers pending watches after a reconnect;
// when the session ends (expiry, LOST, Close) the channel receives an event of
// type zk.EventNotWatching: the caller must then read again to re-arm.

// GetW returns the node's data and stat and watches it for change or deletion.
func (c *Client) GetW(ctx context.Context, p string) ([]byte, *zk.Stat, <-chan zk.Event, error) {
	data, st, ch, err := c.GetWRaw(ctx, p)
	if err != nil {
		return nil, nil, nil, err
	}
	return data, st, c.unfixEvents(ch), nil
}

// ExistsW returns the node's stat (nil if it does not exist) and watches for
// its creation, change or deletion.
func (c *Client) ExistsW(ctx context.Context, p string) (*zk.Stat, <-chan zk.Event, error) {
	st, ch, err := c.ExistsWRaw(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	return st, c.unfixEvents(ch), nil
}

// ChildrenW returns the node's children and watches for child changes or the
// node's deletion.
func (c *Client) ChildrenW(ctx context.Context, p string) ([]string, *zk.Stat, <-chan zk.Event, error) {
	kids, st, ch, err := c.ChildrenWRaw(ctx, p)
	if err != nil {
		return nil, nil, nil, err
	}
	return kids, st, c.unfixEvents(ch), nil
}

func (c *Client) watchOp(ctx context.Context, name, p string, op func(context.Context, *zk.Conn, string) error) error {
	if err := validatePath(p); err != nil {
		return wrapOp(name+" "+p, err)
	}
	sp := fix(c.ns, p)
	err := c.retry(ctx, name, func(ctx context.Context, conn *zk.Conn, _ int) error { return op(ctx, conn, sp) })
	if err != nil {
		return fmt.Errorf("framework: %s %s: %w", name, p, err)
	}
	return nil
}

// unfixEvents rewrites event paths to be namespace-relative.
func (c *Client) unfixEvents(in <-chan zk.Event) <-chan zk.Event {
	if c.ns == "" || in == nil {
		return in
	}
	out := make(chan zk.Event, 1)
	ns := c.ns
	if !c.core.spawn(func() {
		defer close(out)
		// go-zookeeper sends one event and closes the channel, also on Close,
		// so this goroutine always ends.
		for ev := range in {
			ev.Path = unfix(ns, ev.Path)
			out <- ev
		}
	}) {
		close(out)
	}
	return out
}

func callTriple[A, B, C any](ctx context.Context, cr *core, f func() (A, B, C, error)) (A, B, C, error) {
	type triple struct {
		a A
		b B
		c C
	}
	r, err := call(ctx, cr, func() (triple, error) {
		a, b, c, err := f()
		return triple{a, b, c}, err
	})
	return r.a, r.b, r.c, err
}
