package framework

import (
	"context"

	"github.com/go-zookeeper/zk"
)

// NodeData is what a DataWatch reports: the node's data and stat, or a nil
// Stat (and nil Data) while the node does not exist.
type NodeData struct {
	Data []byte
	Stat *zk.Stat
}

// Exists reports whether the node existed when it was read.
func (d NodeData) Exists() bool { return d.Stat != nil }

// DataFunc receives the node's data and stat, or (nil, nil) while the node
// does not exist. Returning false stops the watch.
type DataFunc func(data []byte, stat *zk.Stat) bool

// DataWatch watches the node at p (kazoo's DataWatch): it reads the node now
// and again each time it changes, and reports each new state to fn (which
// may be nil), to the watch's Current value and to its Events channel. A
// missing node is reported as (nil, nil) and watched for creation. Changes
// are detected by the node's mzxid, so a burst of writes may be reported
// once, with the latest data. fn is called in order from the watch's own
// goroutine; Client.Close does not wait for a call that blocks.
//
// DataWatch returns after the first read has been delivered, or when ctx
// ends first. ctx bounds only that setup: the watch then lives until Stop,
// until fn returns false, or until the client closes (see Watch).
func (c *Client) DataWatch(ctx context.Context, p string, fn DataFunc) (*Watch[NodeData], error) {
	what := "data watch " + p
	if err := validatePath(p); err != nil {
		return nil, wrapOp(what, err)
	}
	sp := fix(c.ns, p)
	var seen, existed bool
	var mzxid int64
	read := func(ctx context.Context, conn *zk.Conn) (<-chan zk.Event, NodeData, bool, error) {
		data, st, ch, err := callTriple(ctx, c.core, func() ([]byte, *zk.Stat, <-chan zk.Event, error) { return conn.GetW(sp) })
		if isNoNode(err) {
			var ok bool
			ok, _, ch, err = callTriple(ctx, c.core, func() (bool, *zk.Stat, <-chan zk.Event, error) { return conn.ExistsW(sp) })
			if err == nil && ok {
				return nil, NodeData{}, false, errCreatedMeanwhile
			}
			data, st = nil, nil
		}
		if err != nil {
			return nil, NodeData{}, false, err
		}
		exists := st != nil
		if seen && exists == existed && (!exists || st.Mzxid == mzxid) {
			return ch, NodeData{}, false, nil
		}
		seen, existed = true, exists
		if exists {
			mzxid = st.Mzxid
		}
		return ch, NodeData{Data: data, Stat: st}, true, nil
	}
	var deliver func(NodeData) bool
	if fn != nil {
		deliver = func(v NodeData) bool { return fn(v.Data, v.Stat) }
	}
	return startWatch(ctx, c, what, read, deliver)
}
