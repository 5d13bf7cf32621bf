package framework

import (
	"context"

	"github.com/go-zookeeper/zk"
)

// The *WRaw methods are GetW, ExistsW and ChildrenW without the namespace
// rewriting of the event: the channel is go-zookeeper's own, and the event's
// Path is the server path (namespace included). They exist for caches that
// must order what they see by zxid.
//
// What they add is a timing guarantee. go-zookeeper sends the event into the
// channel and closes it on its receive goroutine, before it handles any reply
// that comes after the notification on the wire; ZooKeeper sends a watch's
// notification before any reply that reflects the change. So once a later
// call on the same client has returned, a watch that the change fired is
// already visible to a non-blocking receive (the event, or a closed channel if
// someone else took it). GetW on a namespaced client forwards the event on a
// goroutine and cannot promise that.

// GetWRaw is GetW with go-zookeeper's own watch channel.
func (c *Client) GetWRaw(ctx context.Context, p string) ([]byte, *zk.Stat, <-chan zk.Event, error) {
	var data []byte
	var st *zk.Stat
	var ch <-chan zk.Event
	err := c.watchOp(ctx, "getW", p, func(ctx context.Context, conn *zk.Conn, sp string) error {
		var err error
		data, st, ch, err = callTriple(ctx, c.core, func() ([]byte, *zk.Stat, <-chan zk.Event, error) { return conn.GetW(sp) })
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return data, st, ch, nil
}

// ExistsWRaw is ExistsW with go-zookeeper's own watch channel.
func (c *Client) ExistsWRaw(ctx context.Context, p string) (*zk.Stat, <-chan zk.Event, error) {
	var st *zk.Stat
	var ch <-chan zk.Event
	err := c.watchOp(ctx, "existsW", p, func(ctx context.Context, conn *zk.Conn, sp string) error {
		ok, s, w, err := callTriple(ctx, c.core, func() (bool, *zk.Stat, <-chan zk.Event, error) { return conn.ExistsW(sp) })
		st, ch = nil, w
		if ok {
			st = s
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return st, ch, nil
}

// ChildrenWRaw is ChildrenW with go-zookeeper's own watch channel.
func (c *Client) ChildrenWRaw(ctx context.Context, p string) ([]string, *zk.Stat, <-chan zk.Event, error) {
	var kids []string
	var st *zk.Stat
	var ch <-chan zk.Event
	err := c.watchOp(ctx, "childrenW", p, func(ctx context.Context, conn *zk.Conn, sp string) error {
		var err error
		kids, st, ch, err = callTriple(ctx, c.core, func() ([]string, *zk.Stat, <-chan zk.Event, error) { return conn.ChildrenW(sp) })
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return kids, st, ch, nil
}
