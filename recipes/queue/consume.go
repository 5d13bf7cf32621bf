package queue

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// Consume runs handle on the queue's items, up to concurrency at a time,
// until ctx ends; then it waits for the running handlers (their ctx is
// cancelled) and returns ctx's error. It returns framework.ErrClosed if the
// client closes, and at once, having created nothing, on a bad argument
// (ErrInvalidConcurrency, ErrNilHandler, or the queue's own).
//
// An item is removed only after handle returned nil for it. A handler error
// puts the item back for another delivery after a backoff (WithRetryBackoff);
// after MaxAttempts failures it moves to the dead-letter child. A handler
// whose ctx was cancelled (Consume's ctx ended, or the claim could no longer
// be trusted, see WithSuspendGrace) and that returns an error does not count
// as a failure: its item is released as it was.
//
// Consume survives connection loss and session loss: on a new session it
// registers again and carries on. Items held by a consumer whose session
// ended are delivered again, so handlers must tolerate seeing an item twice
// (at-least-once); without consumer deaths each item is handled once.
func (q *WorkQueue) Consume(ctx context.Context, concurrency int, handle func(ctx context.Context, item []byte) error) error {
	switch {
	case q.err != nil:
		return q.err
	case concurrency < 1:
		return fmt.Errorf("%w: %d", ErrInvalidConcurrency, concurrency)
	case handle == nil:
		return ErrNilHandler
	}
	cs := &consumer{
		q: q, c: q.c, handle: handle, log: q.opts.logger.With(zap.String("queue", q.path)),
		work:     make(chan task),
		results:  make(chan result),
		inflight: map[string]bool{},
		ready:    itemHeap{less: item.before},
		delayed: itemHeap{less: func(a, b item) bool {
			if a.due != b.due {
				return a.due < b.due
			}
			return a.before(b)
		}},
	}
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range cs.work {
				again, collided := cs.process(ctx, t)
				cs.results <- result{t.it, again, collided}
			}
		}()
	}
	err := cs.dispatch(ctx)
	close(cs.work)
	go func() {
		wg.Wait()
		close(cs.results)
	}()
	for range cs.results {
	}
	cs.retire(ctx)
	return fmt.Errorf("queue: consume %s: %w", q.path, err)
}

// consumer is one Consume call: a dispatcher (the calling goroutine) that
// lists the queue and hands items to worker goroutines.
type consumer struct {
	q      *WorkQueue
	c      *framework.Client
	handle func(context.Context, []byte) error
	log    *zap.Logger

	work    chan task   // dispatcher → workers
	results chan result // workers → dispatcher: the item is no longer in hand

	// The dispatcher's state, touched by it alone.
	ep           *epoch
	ready        itemHeap // items due, best first
	delayed      itemHeap // items not yet due, earliest first
	inflight     map[string]bool
	heldByOthers map[string]bool // items of the last listing claimed by other consumers
	needList     bool            // list now
	contended    bool            // claims collided with other consumers' since the last listing
	dirty        bool            // the items directory changed since the last listing
	listed       int             // items in the last listing
	handed       int             // items handed out since the last listing
	itemsW       <-chan zk.Event
	claimsW      <-chan zk.Event
}

// epoch is one session of a consumer, witnessed by its consumer node: a
// claim made in the session is ours exactly as long as the consumer node
// exists, which every transaction that acts on a claim checks.
type epoch struct {
	sess   *framework.Session
	member string
}

type task struct {
	it item
	ep *epoch
}

// result tells the dispatcher that a worker is done with an item; again
// means the item is still in the queue, unchanged, for another delivery (it
// was released or could not be claimed), which no watch would report.
type result struct {
	it       item
	again    bool
	collided bool // another consumer had claimed it
}

// relistFraction: with a change seen, list again once this share of the last
// listing has been handed out (or all of it). On long backlogs each listing
// then serves many items instead of one (Curator's DistributedQueue re-lists
// on every change and falls over at about 10,000 items).
const (
	relistFraction = 8
	relistMin      = 16
)

// dispatch hands items to the workers until ctx ends or the client closes.
func (cs *consumer) dispatch(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	retry := 10 * time.Millisecond
	for {
		if cs.ep == nil {
			ep, err := cs.establish(ctx)
			if err != nil {
				return err
			}
			cs.ep, cs.needList, cs.itemsW, cs.claimsW = ep, true, nil, nil
		}
		if cs.needList || (cs.dirty && (cs.ready.Len() == 0 || cs.handed >= max(relistMin, cs.listed/relistFraction))) {
			if err := cs.list(ctx); err != nil {
				if ctx.Err() != nil || errors.Is(err, framework.ErrClosed) {
					return cmpErr(ctx, err)
				}
				cs.log.Warn("listing the queue failed; trying again", zap.Error(err), zap.Duration("in", retry))
				if err := sleep(ctx, cs.c, retry); err != nil {
					return err
				}
				retry = min(2*retry, 5*time.Second)
				continue
			}
			retry = 10 * time.Millisecond
		}
		now := time.Now()
		cs.promote(now)
		at, next, ok := cs.pick()
		if !ok && !cs.dirty && len(cs.heldByOthers) > 0 && cs.claimsW == nil {
			if cs.watchClaims(ctx); cs.needList {
				continue
			}
		}
		var work chan<- task
		if ok {
			work = cs.work
		}
		var due <-chan time.Time
		if cs.delayed.Len() > 0 {
			timer.Reset(time.UnixMilli(cs.delayed.items[0].due).Sub(now))
			due = timer.C
		}
		select {
		case work <- task{next, cs.ep}:
			heap.Remove(&cs.ready, at)
			cs.inflight[next.name] = true
			cs.handed++
		case r := <-cs.results:
			delete(cs.inflight, r.it.name)
			cs.contended = cs.contended || r.collided
			if r.again {
				heap.Push(&cs.ready, r.it)
			}
		case <-cs.itemsW:
			cs.dirty, cs.itemsW = true, nil
		case <-cs.claimsW:
			// A claim went (a consumer finished, released or died): look again.
			cs.needList, cs.claimsW = true, nil
		case <-due:
		case <-cs.ep.sess.Done():
			cs.ep = nil
		case <-ctx.Done():
			return ctx.Err()
		case <-cs.c.Done():
			return framework.ErrClosed
		}
	}
}

// establish registers this consumer in the current session: it creates the
// consumer node that witnesses the session's claims.
func (cs *consumer) establish(ctx context.Context) (*epoch, error) {
	delay := 10 * time.Millisecond
	for {
		sess, err := cs.c.Session(ctx)
		if err != nil {
			return nil, cmpErr(ctx, err)
		}
		member := cs.q.dir(consumersDir, uuid.NewString())
		_, err = cs.c.Create(ctx, member, []byte(cs.q.opts.consumerID),
			framework.WithMode(framework.ModeEphemeral), framework.WithContainerParents())
		if err == nil && cs.c.SessionID() == sess.ID() {
			return &epoch{sess: sess, member: member}, nil
		}
		// Failed, or made in a later session than sess: remove and go again.
		cs.remove(ctx, member)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			cs.log.Warn("registering the consumer failed; trying again", zap.Error(err))
		}
		if err := sleep(ctx, cs.c, delay); err != nil {
			return nil, err
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// retire deletes the consumer node once every claim has been dealt with.
func (cs *consumer) retire(ctx context.Context) {
	if cs.ep != nil {
		cs.remove(ctx, cs.ep.member)
	}
}

// remove deletes p after ctx may have ended, in the background if it must.
func (cs *consumer) remove(ctx context.Context, p string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = cs.c.Delete(cctx, p, framework.Quietly(), framework.Guaranteed())
}

// list reads the items and claims directories and rebuilds the heaps. It
// arms a watch on the items directory.
func (cs *consumer) list(ctx context.Context) error {
	cs.q.lists.Add(1)
	var names []string
	for {
		var err error
		names, _, cs.itemsW, err = cs.c.ChildrenW(ctx, cs.q.dir(itemsDir))
		if errors.Is(err, zk.ErrNoNode) {
			// No items directory (none put yet, or reaped when empty): wait for it.
			var st *zk.Stat
			st, cs.itemsW, err = cs.c.ExistsW(ctx, cs.q.dir(itemsDir))
			if err == nil && st != nil {
				continue
			}
			names = nil
		}
		if err != nil {
			return err
		}
		break
	}
	claims, _, err := cs.c.Children(ctx, cs.q.dir(claimsDir))
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return err
	}
	claimed := make(map[string]bool, len(claims))
	for _, k := range claims {
		claimed[k] = true
	}
	cs.ready.items, cs.delayed.items = cs.ready.items[:0], cs.delayed.items[:0]
	cs.heldByOthers = map[string]bool{}
	now := time.Now().UnixMilli()
	for _, name := range names {
		it, ok := parseItem(name)
		switch {
		case !ok || cs.inflight[name]:
		case claimed[name]:
			cs.heldByOthers[name] = true
		case it.due > now:
			cs.delayed.items = append(cs.delayed.items, it)
		default:
			cs.ready.items = append(cs.ready.items, it)
		}
	}
	heap.Init(&cs.ready)
	heap.Init(&cs.delayed)
	cs.needList, cs.dirty, cs.listed, cs.handed, cs.claimsW, cs.contended = false, false, len(names), 0, nil, false
	return nil
}

// watchClaims arms a watch on the claims directory while the only items
// left are held by other consumers, so that an item released or left by a
// dead consumer is seen. If a claim went since the listing, list at once.
func (cs *consumer) watchClaims(ctx context.Context) {
	claims, _, ch, err := cs.c.ChildrenW(ctx, cs.q.dir(claimsDir))
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		cs.log.Debug("watching claims failed", zap.Error(err))
		return
	}
	if errors.Is(err, zk.ErrNoNode) {
		cs.needList = true // every claim is gone
		return
	}
	cs.claimsW = ch
	still := 0
	for _, k := range claims {
		if cs.heldByOthers[k] {
			still++
		}
	}
	if still < len(cs.heldByOthers) {
		cs.needList = true
	}
}

// promote moves the delayed items that are due to the ready heap.
func (cs *consumer) promote(now time.Time) {
	ms := now.UnixMilli()
	for cs.delayed.Len() > 0 && cs.delayed.items[0].due <= ms {
		heap.Push(&cs.ready, heap.Pop(&cs.delayed))
	}
}

// spread is how many of the best ready items a consumer that met
// competition chooses from at random: consumers walking one listing in step
// would otherwise collide on every claim.
const spread = 16

// pick returns the best ready item not already in hand and its heap index;
// when contended, a random one among the first entries of the heap with the
// best item's priority (so priorities stay strict, FIFO only approximate).
func (cs *consumer) pick() (int, item, bool) {
	for cs.ready.Len() > 0 && cs.inflight[cs.ready.items[0].name] {
		heap.Pop(&cs.ready)
	}
	if cs.ready.Len() == 0 {
		return 0, item{}, false
	}
	if !cs.contended {
		return 0, cs.ready.items[0], true
	}
	best := cs.ready.items[0].priority
	var choice []int
	for i, it := range cs.ready.items[:min(spread, cs.ready.Len())] {
		if it.priority == best && !cs.inflight[it.name] {
			choice = append(choice, i)
		}
	}
	i := choice[rand.IntN(len(choice))]
	return i, cs.ready.items[i], true
}

// sleep waits d unless ctx ends or the client closes.
func sleep(ctx context.Context, c *framework.Client, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Done():
		return framework.ErrClosed
	}
}

// cmpErr prefers ctx's error to the error an operation returned because of it.
func cmpErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// itemHeap is a container/heap of items.
type itemHeap struct {
	items []item
	less  func(a, b item) bool
}

func (h *itemHeap) Len() int           { return len(h.items) }
func (h *itemHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *itemHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *itemHeap) Push(x any)         { h.items = append(h.items, x.(item)) }
func (h *itemHeap) Pop() any {
	n := len(h.items) - 1
	it := h.items[n]
	h.items = h.items[:n]
	return it
}
