package framework

import (
	"context"
	"slices"
	"sort"

	"github.com/go-zookeeper/zk"
)

// NodeChildren is what a ChildrenWatch reports: the node's children sorted
// by name and its stat, or a nil Stat (and nil Children) while the node does
// not exist.
type NodeChildren struct {
	Children []string
	Stat     *zk.Stat
}

// Exists reports whether the node existed when it was read.
func (c NodeChildren) Exists() bool { return c.Stat != nil }

// ChildrenFunc receives the node's children, sorted by name, and its stat, or
// (nil, nil) while the node does not exist. Returning false stops the watch.
type ChildrenFunc func(children []string, stat *zk.Stat) bool

// ChildrenWatch watches the children of the node at p (kazoo's
// ChildrenWatch) as DataWatch watches data: each new list goes to fn (which
// may be nil), to Current and to Events. Unlike kazoo it does not stop when
// the node is deleted (kazoo#153): it reports (nil, nil) and waits for the
// node to come back. An unchanged list is not reported again.
//
// ChildrenWatch returns after the first read has been delivered, or when ctx
// ends first. ctx bounds only that setup: the watch then lives until Stop,
// until fn returns false, or until the client closes (see Watch).
func (c *Client) ChildrenWatch(ctx context.Context, p string, fn ChildrenFunc) (*Watch[NodeChildren], error) {
	what := "children watch " + p
	if err := validatePath(p); err != nil {
		return nil, wrapOp(what, err)
	}
	sp := fix(c.ns, p)
	var seen, existed bool
	var last []string
	read := func(ctx context.Context, conn *zk.Conn) (<-chan zk.Event, NodeChildren, bool, error) {
		kids, st, ch, err := callTriple(ctx, c.core, func() ([]string, *zk.Stat, <-chan zk.Event, error) { return conn.ChildrenW(sp) })
		if isNoNode(err) {
			var ok bool
			ok, _, ch, err = callTriple(ctx, c.core, func() (bool, *zk.Stat, <-chan zk.Event, error) { return conn.ExistsW(sp) })
			if err == nil && ok {
				return nil, NodeChildren{}, false, errCreatedMeanwhile
			}
			kids, st = nil, nil
		}
		if err != nil {
			return nil, NodeChildren{}, false, err
		}
		sort.Strings(kids)
		exists := st != nil
		if seen && exists == existed && slices.Equal(kids, last) {
			return ch, NodeChildren{}, false, nil
		}
		seen, existed, last = true, exists, kids
		return ch, NodeChildren{Children: slices.Clone(kids), Stat: st}, true, nil
	}
	var deliver func(NodeChildren) bool
	if fn != nil {
		deliver = func(v NodeChildren) bool { return fn(v.Children, v.Stat) }
	}
	return startWatch(ctx, c, what, read, deliver)
}
