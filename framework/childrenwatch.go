package framework

import (
	"context"
	"slices"
	"sort"

	"github.com/go-zookeeper/zk"
)

// ChildrenFunc receives the node's children, sorted by name, and its stat, or
// (nil, nil) while the node does not exist. Returning false stops the watch.
type ChildrenFunc func(children []string, stat *zk.Stat) bool

// ChildrenWatch calls fn with the node's children, then again each time they
// change, in order, from one goroutine, until fn returns false, ctx ends or
// the client closes (kazoo's ChildrenWatch). Unlike kazoo it does not stop
// when the node is deleted (kazoo#153): it reports (nil, nil) and waits for
// the node to come back. Calls with an unchanged list are suppressed. The
// watch re-arms itself after reconnects and after a new session.
// ChildrenWatch returns after the first call of fn.
func (c *Client) ChildrenWatch(ctx context.Context, p string, fn ChildrenFunc) (*Watch, error) {
	if err := validatePath(p); err != nil {
		return nil, err
	}
	sp := fix(c.ns, p)
	var seen, existed bool
	var last []string
	read := func(ctx context.Context, conn *zk.Conn) (<-chan zk.Event, func() bool, error) {
		kids, st, ch, err := callTriple(ctx, c.core, func() ([]string, *zk.Stat, <-chan zk.Event, error) { return conn.ChildrenW(sp) })
		if isNoNode(err) {
			var ok bool
			ok, _, ch, err = callTriple(ctx, c.core, func() (bool, *zk.Stat, <-chan zk.Event, error) { return conn.ExistsW(sp) })
			if err == nil && ok {
				return nil, nil, errCreatedMeanwhile
			}
			kids, st = nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		sort.Strings(kids)
		exists := st != nil
		if seen && exists == existed && slices.Equal(kids, last) {
			return ch, nil, nil
		}
		seen, existed, last = true, exists, kids
		return ch, func() bool { return fn(slices.Clone(kids), st) }, nil
	}
	return c.startWatch(ctx, read)
}
