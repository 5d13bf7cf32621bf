package queue

import (
	"context"
	"errors"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// process claims one item, runs the handler on it and settles the outcome.
// It reports whether the item is left as it was, to be delivered again, and
// whether another consumer had claimed it.
func (cs *consumer) process(ctx context.Context, t task) (again, collided bool) {
	it, ep := t.it, t.ep
	if ctx.Err() != nil {
		return false, false
	}
	// Claiming, reading and settling run on a context that outlives ctx but
	// not the session: a claim made in a session ends with it, and so does
	// anything we could still do about the claim.
	sctx, stop := sessionContext(ctx, ep.sess)
	defer stop()
	log := cs.log.With(zap.String("item", it.name))
	itemPath, claim := cs.q.dir(itemsDir, it.name), cs.q.dir(claimsDir, it.name)

	_, err := cs.c.Create(sctx, claim, []byte(cs.q.opts.consumerID),
		framework.WithMode(framework.ModeEphemeral), framework.WithContainerParents())
	if errors.Is(err, zk.ErrNodeExists) {
		cs.q.collisions.Add(1)
		return false, true // another consumer has it
	}
	if err != nil || cs.c.SessionID() != ep.sess.ID() {
		// Failed (the create may still have reached the server) or made in a
		// later session, which our consumer node does not witness.
		if err != nil && sctx.Err() == nil {
			log.Warn("claiming an item failed", zap.Error(err))
		}
		cs.dropOwnClaim(ctx, claim)
		// Try again soon after connection trouble; anything else waits for
		// the next listing rather than spinning.
		return err == nil || framework.IsRetryable(err), false
	}
	data, _, err := cs.c.Get(sctx, itemPath)
	if err != nil || ctx.Err() != nil {
		// NoNode: another consumer finished it after we listed it.
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			log.Warn("reading a claimed item failed", zap.Error(err))
		}
		cs.settle(sctx, ep, claim, func() *framework.Txn { return cs.releaseTxn(ep, claim) })
		return err == nil, false // read, but ctx ended first
	}

	hctx, stopHandler := handlerContext(ctx, ep.sess, cs.q.opts.grace)
	herr := cs.handle(hctx, data)
	interrupted := hctx.Err() != nil
	stopHandler()

	switch {
	case herr == nil:
		cs.finish(sctx, ep, itemPath, claim, func() *framework.Txn {
			return cs.c.Txn().Check(ep.member, 0).Delete(itemPath, -1).Delete(claim, -1)
		})
	case interrupted:
		log.Debug("handler interrupted; releasing the item", zap.Error(herr))
		cs.settle(sctx, ep, claim, func() *framework.Txn { return cs.releaseTxn(ep, claim) })
		return true, false
	case it.attempts+1 >= cs.q.opts.maxAttempts:
		log.Warn("handler failed for the last time; moving the item to the dead letters",
			zap.Int("attempts", it.attempts+1), zap.Error(herr))
		// Sequential: the items directory's numbering restarts when it is
		// reaped, so the item's own number may already name a dead letter.
		dead := cs.q.dir(deadDir, itemBase(it.priority, time.Time{}, it.attempts+1))
		if err := cs.c.EnsurePath(sctx, cs.q.dir(deadDir), framework.AsContainers()); err != nil {
			log.Warn("creating the dead-letter node failed", zap.Error(err))
		}
		cs.finish(sctx, ep, itemPath, claim, func() *framework.Txn {
			return cs.c.Txn().Check(ep.member, 0).Delete(itemPath, -1).
				Create(dead, data, framework.ModePersistentSequential, nil).Delete(claim, -1)
		})
	default:
		delay := cs.q.opts.retryDelay(it.attempts + 1)
		log.Info("handler failed; delivering the item again later",
			zap.Int("attempts", it.attempts+1), zap.Duration("in", delay), zap.Error(herr))
		again := cs.q.dir(itemsDir, itemBase(it.priority, time.Now().Add(delay), it.attempts+1))
		cs.finish(sctx, ep, itemPath, claim, func() *framework.Txn {
			return cs.c.Txn().Check(ep.member, 0).Delete(itemPath, -1).
				Create(again, data, framework.ModePersistentSequential, nil).Delete(claim, -1)
		})
	}
	return false, false
}

// releaseTxn gives a claim up, if it is still ours.
func (cs *consumer) releaseTxn(ep *epoch, claim string) *framework.Txn {
	return cs.c.Txn().Check(ep.member, 0).Delete(claim, -1)
}

// settle commits the transaction build makes (a fresh one each try) until it
// applied or no longer matters: the target node is gone (this transaction,
// or another consumer after our session ended, dealt with it) or our
// consumer node is gone (and with it our claim: the item is delivered
// again). Every transaction checks the consumer node, so none acts on a
// claim another consumer made after our session ended. It reports false if
// it gave up: ctx (bound to the session) ended, or the server keeps refusing.
func (cs *consumer) settle(ctx context.Context, ep *epoch, target string, build func() *framework.Txn) bool {
	delay := 20 * time.Millisecond
	for try := 1; ; try++ {
		_, err := build().Commit(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		answer := errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrNodeExists)
		if !answer && !framework.IsRetryable(err) && !errors.Is(err, framework.ErrMaybeApplied) {
			cs.log.Error("settling an item failed", zap.String("node", target), zap.Error(err))
			return false
		}
		tst, err1 := cs.c.Exists(ctx, target)
		mst, err2 := cs.c.Exists(ctx, ep.member)
		if (err1 == nil && tst == nil) || (err2 == nil && mst == nil) {
			return true
		}
		if err1 == nil && err2 == nil {
			if errors.Is(err, zk.ErrNoNode) {
				// The dead-letter container may have been reaped since we made it.
				_ = cs.c.EnsurePath(ctx, cs.q.dir(deadDir), framework.AsContainers())
			}
			if answer && try >= 3 {
				cs.log.Error("settling an item failed", zap.String("node", target), zap.Error(err))
				return false
			}
		}
		if sleep(ctx, cs.c, delay) != nil {
			return false
		}
		delay = min(2*delay, time.Second)
	}
}

// finish settles an item's outcome with txn, or, if that fails, at least
// gives the claim up so that the item is not held until the session ends.
func (cs *consumer) finish(ctx context.Context, ep *epoch, itemPath, claim string, txn func() *framework.Txn) {
	if !cs.settle(ctx, ep, itemPath, txn) && ctx.Err() == nil {
		cs.settle(ctx, ep, claim, func() *framework.Txn { return cs.releaseTxn(ep, claim) })
	}
}

// dropOwnClaim deletes claim if the current session owns it: what a failed
// or misplaced claim create left. ZooKeeper orders a session's requests, so
// an abandoned create that reached the server is seen here.
func (cs *consumer) dropOwnClaim(ctx context.Context, claim string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	st, err := cs.c.Exists(cctx, claim)
	if err == nil && st != nil && st.EphemeralOwner == cs.c.SessionID() {
		_ = cs.c.Delete(cctx, claim, framework.WithVersion(st.Version), framework.Quietly())
	}
}

// sessionContext is a context that survives parent's end but ends with sess.
func sessionContext(parent context.Context, sess *framework.Session) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := make(chan struct{})
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-stop:
		}
	}()
	return ctx, func() { close(stop); cancel() }
}

// handlerContext is the handler's context: parent's, also cancelled when the
// session's fence closes (SUSPENDED past grace, or the session ended).
func handlerContext(parent context.Context, sess *framework.Session, grace time.Duration) (context.Context, func()) {
	fenced, unfence := sess.Fence(grace)
	ctx, cancel := context.WithCancel(parent)
	stop := make(chan struct{})
	go func() {
		select {
		case <-fenced:
			cancel()
		case <-stop:
		}
	}()
	return ctx, func() { close(stop); unfence(); cancel() }
}
