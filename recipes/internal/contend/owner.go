package contend

import (
	"context"

	"github.com/go-zookeeper/zk"
)

// OwnerCheck reads a contender node's stat once, beside the first listing
// of its directory rather than after it: a node's Czxid (the fencing token)
// and EphemeralOwner never change, so one read is enough for every wake-up,
// and running it alongside the listing keeps it off the hand-off's critical
// path (a lock hand-off was delete, watch event, getChildren, exists; it is
// now delete, watch event, getChildren).
type OwnerCheck struct {
	n      *Node
	cancel context.CancelFunc
	ch     chan ownerResult
	done   bool
	res    ownerResult
}

type ownerResult struct {
	st  *zk.Stat
	err error
}

// CheckOwner starts reading n's stat. Call Stop when done with it (Result
// may be called first, any number of times).
func (k *Contender) CheckOwner(ctx context.Context, n *Node) *OwnerCheck {
	ctx, cancel := context.WithCancel(ctx)
	o := &OwnerCheck{n: n, cancel: cancel, ch: make(chan ownerResult, 1)}
	go func() {
		st, err := k.Client.Exists(ctx, n.Path)
		o.ch <- ownerResult{st, err}
	}()
	return o
}

// Result waits for the read and returns n's stat, or ErrGone when n does
// not exist or belongs to a session other than n.Session (a node of an
// older session, CURATOR-696, must never be taken for a hold).
func (o *OwnerCheck) Result() (*zk.Stat, error) {
	if !o.done {
		o.res, o.done = <-o.ch, true
		if o.res.err == nil && (o.res.st == nil || o.res.st.EphemeralOwner != o.n.Session.ID()) {
			o.res = ownerResult{err: ErrGone}
		}
	}
	return o.res.st, o.res.err
}

// Stop abandons the read if it is still running and waits for its
// goroutine, so none outlives the wait that started it.
func (o *OwnerCheck) Stop() {
	o.cancel()
	_, _ = o.Result()
}
