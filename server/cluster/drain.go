package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// Raft's apply queue is buffered (Config.BatchApplyCh), and raft v1.8.0
// never answers the futures still queued when it shuts down: whoever waits
// on one waits for ever, and Shutdown with it (the nemesis found this:
// kill-leader hung after 20-50 faults). So every append goes through apply,
// and stopping closes it and lets raft take everything queued (a barrier
// behind them) before raft itself stops; what raft has taken it answers.

// drainWait bounds the wait for raft to take the queue: a leader cut off
// from its peers steps down within its lease and answers then.
const drainWait = 5 * time.Second

// apply appends data through raft, unless the node is stopping.
func (n *Node) apply(data []byte) raft.ApplyFuture {
	n.applyMu.RLock()
	defer n.applyMu.RUnlock()
	if n.applyClosed {
		return stoppedFuture{}
	}
	return n.raft.Apply(data, 0)
}

// drainApplies closes apply and waits until raft has taken every queued
// append, so that each is answered before raft stops.
func (n *Node) drainApplies() {
	n.applyMu.Lock()
	n.applyClosed = true
	n.applyMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), drainWait)
	defer cancel()
	if err := waitFuture(ctx, n.raft.Barrier(0)); errors.Is(err, context.DeadlineExceeded) {
		n.log.Warn("raft did not take its queued appends before shutdown", zapErr(err))
	}
}

// stoppedFuture is the answer to an append made while the node stops.
type stoppedFuture struct{}

func (stoppedFuture) Error() error          { return raft.ErrRaftShutdown }
func (stoppedFuture) Index() uint64         { return 0 }
func (stoppedFuture) Response() interface{} { return nil }
