package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// ErrInvalidOption is returned by every method of a WorkQueue built with a bad option.
var ErrInvalidOption = errors.New("queue: invalid option")

// ErrInvalidConcurrency is returned by Consume when concurrency is below 1.
var ErrInvalidConcurrency = errors.New("queue: concurrency must be at least 1")

// ErrNilHandler is returned by Consume when the handler is nil.
var ErrNilHandler = errors.New("queue: nil handler")

// The children of a WorkQueue's node.
const (
	itemsDir     = "items"
	claimsDir    = "claims"
	consumersDir = "consumers"
	deadDir      = "dead"
	producersDir = "producers"
)

// fencePrefix starts what a Put that gives up writes to its producer slot
// to fence its lost attempts off: "fence:<uuid>".
const fencePrefix = "fence:"

// ErrMaybePut is returned by Put (and PutPriority, PutDelayed) when an
// attempt to put the item may have applied and Put could not learn whether
// it did: the session ended (taking the producer slot that would tell with
// it) while the attempt's reply was lost, or ctx ended and the slot could
// not be fenced within 30 s. It wraps framework.ErrMaybeApplied.
var ErrMaybePut = fmt.Errorf("queue: item may have been put: %w", framework.ErrMaybeApplied)

// WorkQueue is a job queue: items are delivered to handlers and removed only
// once a handler succeeded; see the package documentation for its layout and
// guarantees. Its methods are safe for concurrent use.
type WorkQueue struct {
	c    *framework.Client
	path string
	opts options
	err  error

	slotPrefix string       // names this value's producer slots: <uuid>-<k>
	slotSeq    atomic.Int64 // the last k
	mu         sync.Mutex
	slots      []*producerSlot // idle producer slots

	lists      atomic.Int64 // listings of the items directory by this value's consumers (for tests)
	collisions atomic.Int64 // claims that found another consumer's claim (for tests)
}

// Option configures a WorkQueue.
type Option func(*options)

type options struct {
	maxAttempts  int
	backoffFirst time.Duration
	backoffMax   time.Duration
	grace        time.Duration
	consumerID   string
	logger       *zap.Logger
	err          error
}

func defaultOptions() options {
	host, _ := os.Hostname()
	return options{
		maxAttempts:  5,
		backoffFirst: time.Second,
		backoffMax:   time.Minute,
		grace:        0,
		consumerID:   fmt.Sprintf("%s-%d", host, os.Getpid()),
		logger:       zap.NewNop(),
	}
}

// WithMaxAttempts sets how many times an item is handed to a handler that
// fails before the item moves to the dead-letter child (default 5).
func WithMaxAttempts(n int) Option {
	return func(o *options) {
		if n < 1 {
			o.err = fmt.Errorf("%w: max attempts %d < 1", ErrInvalidOption, n)
		}
		o.maxAttempts = n
	}
}

// WithRetryBackoff sets the delay before a failed item is delivered again:
// exponential from first, doubling and randomised by ±50%, at most max
// (defaults 1 s and 1 min).
func WithRetryBackoff(first, max time.Duration) Option {
	return func(o *options) {
		if first <= 0 || max < first {
			o.err = fmt.Errorf("%w: retry backoff %v..%v", ErrInvalidOption, first, max)
		}
		o.backoffFirst, o.backoffMax = first, max
	}
}

// WithSuspendGrace sets how long a handler keeps its context while the
// connection is SUSPENDED. The default, 0, cancels it at once, like Curator's
// standard policy for anything held exclusively: once the session may be
// gone, the item may be delivered to another consumer. A negative grace
// cancels only on LOST, accepting that a partitioned consumer's handler may
// run alongside another consumer's for up to a session timeout.
func WithSuspendGrace(d time.Duration) Option { return func(o *options) { o.grace = d } }

// WithConsumerID sets the id stored in this process's claim and consumer
// nodes (default hostname-pid), to tell who holds what.
func WithConsumerID(id string) Option { return func(o *options) { o.consumerID = id } }

// WithLogger sets the logger for what Consume cannot return (handler
// failures, items moved to the dead-letter child). Default: no logging.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// NewWorkQueue returns the work queue at path. Invalid arguments are
// reported by every method (wrapping framework.ErrInvalidPath, ErrNilClient
// or ErrInvalidOption).
func NewWorkQueue(c *framework.Client, path string, opts ...Option) *WorkQueue {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	err := checkArgs(c, path)
	if err == nil {
		err = o.err
	}
	return &WorkQueue{c: c, path: path, opts: o, err: err, slotPrefix: uuid.NewString()}
}

func (q *WorkQueue) dir(name string, children ...string) string {
	return framework.JoinPath(q.path, append([]string{name}, children...)...)
}

// Put adds data to the queue with priority 0, for delivery at once. It
// retries across connection loss and never puts the item twice (see the
// package documentation). If ctx ends while an attempt is in flight, Put
// settles it, for up to 30 s more (like Take): nil if the item was put after
// all, ctx's error if it was not (and never will be), ErrMaybePut if it
// cannot tell; ErrMaybePut too when the session ends while an attempt's
// outcome is unknown.
func (q *WorkQueue) Put(ctx context.Context, data []byte) error {
	return q.put(ctx, data, 0, time.Time{})
}

// PutPriority adds data with a priority: among the items due, lower values
// are delivered first (as in Curator's DistributedPriorityQueue and kazoo's
// queues), so with Put's 0 as the norm, negative values jump the queue.
// Items of one priority are delivered in the order they were put.
// Priorities are honoured among the items a consumer has listed: it lists
// again once its listing is used up or an eighth of it has been delivered, so
// on a long backlog a new urgent item waits at most that long.
func (q *WorkQueue) PutPriority(ctx context.Context, data []byte, priority int32) error {
	return q.put(ctx, data, priority, time.Time{})
}

// PutDelayed adds data for delivery not before at, measured by the
// consumers' clocks (keep them in sync); a time in the past means at once.
func (q *WorkQueue) PutDelayed(ctx context.Context, data []byte, at time.Time) error {
	return q.put(ctx, data, 0, at)
}

// put sets a producer slot and creates the item in one transaction; see
// putOnce.
func (q *WorkQueue) put(ctx context.Context, data []byte, priority int32, at time.Time) error {
	if q.err != nil {
		return q.err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("queue: put %s: %w", q.path, err)
	}
	id := uuid.New()
	// The item keeps Curator's protected prefix with the Put's uuid (the
	// data its transaction writes to the slot), so an item can be traced to
	// its Put.
	itemPath := q.dir(itemsDir, framework.ProtectedName(id, itemBase(priority, at, 0)))
	if err := q.putOnce(ctx, id, itemPath, data); err != nil {
		return fmt.Errorf("queue: put %s: %w", q.path, err)
	}
	return nil
}

// putOnce commits {set slot at its version, create item} until it is known
// to have applied exactly once. The slot's version makes the transaction
// idempotent: a retry after a lost reply fails with BadVersion if an earlier
// attempt applied (and the slot then holds this Put's uuid), whether or not
// a consumer has handled and deleted the item since, and an attempt that
// reaches the server late fails the same way once a retry applied. (Listing
// the items for the protected prefix, as a protected create does, cannot
// tell "never applied" from "applied and already consumed".)
func (q *WorkQueue) putOnce(ctx context.Context, id uuid.UUID, itemPath string, data []byte) error {
	mark := []byte(id.String())
	s, err := q.slot(ctx)
	if err != nil {
		return err
	}
	maybe := false // an attempt may have applied
	noNode := 0
	delay := 10 * time.Millisecond
	for {
		if sid := q.c.SessionID(); !maybe && sid != 0 && s.session != sid {
			// The slot went with its session, and nothing of this Put
			// applied: take a slot of the current session.
			if s, err = q.slot(ctx); err != nil {
				return err
			}
		}
		_, err := q.c.Txn().Set(s.path, mark, s.version).
			Create(itemPath, data, framework.ModePersistentSequential, nil).Commit(ctx)
		switch {
		case err == nil:
			s.version++
			q.release(s)
			return nil
		case errors.Is(err, zk.ErrBadVersion):
			// Nothing applied now. If an earlier attempt did, the slot holds
			// our uuid one version on; nothing else writes it.
			got, st, gerr := q.c.Get(ctx, s.path)
			switch {
			case gerr == nil && maybe && st.Version == s.version+1 && string(got) == string(mark):
				s.version++
				q.release(s)
				return nil
			case gerr == nil && maybe:
				q.drop(s)
				return fmt.Errorf("%w: producer slot %s in an unexpected state", ErrMaybePut, s.path)
			case errors.Is(gerr, zk.ErrNoNode) && maybe:
				return fmt.Errorf("%w: producer slot %s went with its session", ErrMaybePut, s.path)
			case gerr == nil || errors.Is(gerr, zk.ErrNoNode):
				// No attempt was sent: our count of the slot is off, so
				// nothing can be learnt from it. Use another.
				if gerr == nil {
					q.drop(s)
				}
				if s, err = q.slot(ctx); err != nil {
					return err
				}
				continue
			}
			err = gerr
		case errors.Is(err, zk.ErrNoNode) && noNode < 3:
			// Nothing applied now: the slot or the items directory is gone.
			noNode++
			st, xerr := q.c.Exists(ctx, s.path)
			switch {
			case xerr == nil && st == nil && maybe:
				// The slot went with its session: a late attempt can no
				// longer apply, but whether one did nobody can tell.
				return fmt.Errorf("%w: producer slot %s went with its session", ErrMaybePut, s.path)
			case xerr == nil && st == nil:
				if s, err = q.slot(ctx); err != nil {
					return err
				}
				continue
			case xerr == nil:
				// The items directory is missing (nothing put yet, or reaped
				// while empty): make it and try again.
				if err := q.c.EnsurePath(ctx, q.dir(itemsDir), framework.AsContainers()); err != nil && ctx.Err() == nil && !framework.IsRetryable(err) {
					q.release(s)
					return err
				}
				if ctx.Err() == nil {
					continue
				}
			default:
				err = xerr
			}
		case errors.Is(err, framework.ErrMaybeApplied):
			maybe = true
		case ctx.Err() != nil:
			// The request may have been sent before ctx ended.
			maybe = true
		case !framework.IsRetryable(err):
			if maybe {
				return q.fencePut(ctx, s, id, err)
			}
			q.release(s)
			return err
		}
		if ctx.Err() != nil || errors.Is(err, framework.ErrClosed) {
			if !maybe {
				q.release(s)
				return cmpErr(ctx, err)
			}
			return q.fencePut(ctx, s, id, cmpErr(ctx, err))
		}
		if err := sleep(ctx, q.c, delay); err != nil {
			if !maybe {
				q.release(s)
				return err
			}
			return q.fencePut(ctx, s, id, err)
		}
		delay = min(2*delay, time.Second)
	}
}

// fencePut settles a Put that ends (its ctx ended, or the client closed)
// while an attempt may have applied: it sets the slot alone, at the version
// the attempt expected, to "fence:<uuid>". If that succeeds no attempt
// applied, and none ever will, since each needs that version; if it fails
// with BadVersion and the slot holds the Put's uuid, an attempt applied and
// Put succeeded after all. Otherwise the outcome is unknown: ErrMaybePut,
// wrapping cause. It releases or drops s.
func (q *WorkQueue) fencePut(ctx context.Context, s *producerSlot, id uuid.UUID, cause error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	mark, fence := []byte(id.String()), []byte(fencePrefix+id.String())
	for {
		_, err := q.c.Set(sctx, s.path, fence, framework.WithVersion(s.version))
		switch {
		case err == nil:
			s.version++
			q.release(s)
			return fmt.Errorf("%w (the item was not put)", cause)
		case errors.Is(err, zk.ErrBadVersion):
			got, st, gerr := q.c.Get(sctx, s.path)
			switch {
			case gerr == nil && st.Version == s.version+1 && string(got) == string(mark):
				s.version++
				q.release(s)
				return nil
			case gerr == nil && st.Version == s.version+1 && string(got) == string(fence):
				// Our own fence, whose reply was lost.
				s.version++
				q.release(s)
				return fmt.Errorf("%w (the item was not put)", cause)
			case gerr == nil:
				q.drop(s)
				return fmt.Errorf("%w (%w; producer slot %s in an unexpected state)", ErrMaybePut, cause, s.path)
			}
			err = gerr
		}
		if errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("%w (%w; producer slot %s went with its session)", ErrMaybePut, cause, s.path)
		}
		if !framework.IsRetryable(err) || sctx.Err() != nil {
			q.drop(s)
			return fmt.Errorf("%w (%w; fencing: %w)", ErrMaybePut, cause, err)
		}
		if err := sleep(sctx, q.c, 10*time.Millisecond); err != nil {
			q.drop(s)
			return fmt.Errorf("%w (%w; fencing: %w)", ErrMaybePut, cause, err)
		}
	}
}

// producerSlot is one of a WorkQueue's ephemeral producer nodes. A Put
// holds it alone for its duration; its version counts the transactions
// applied on it (see putOnce).
type producerSlot struct {
	path    string
	version int32
	session int64 // the session it was created in
}

// slot returns an idle producer slot, creating one if none is idle, so a
// WorkQueue has at most as many slots as it has had Puts at once.
func (q *WorkQueue) slot(ctx context.Context) (*producerSlot, error) {
	sid := q.c.SessionID()
	q.mu.Lock()
	for len(q.slots) > 0 {
		s := q.slots[len(q.slots)-1]
		q.slots = q.slots[:len(q.slots)-1]
		if s.session == sid || sid == 0 {
			q.mu.Unlock()
			return s, nil
		}
		// Of an earlier session: gone with it.
	}
	q.mu.Unlock()
	p, err := q.c.Create(ctx, q.dir(producersDir, fmt.Sprintf("%s-%d", q.slotPrefix, q.slotSeq.Add(1))), nil,
		framework.WithMode(framework.ModeEphemeral), framework.WithContainerParents())
	if err != nil {
		return nil, fmt.Errorf("create producer slot: %w", err)
	}
	// If the session changed between the create and now, the slot is
	// already gone and its first transaction fails with NoNode before
	// anything applies, which makes a new one.
	return &producerSlot{path: p, session: q.c.SessionID()}, nil
}

// release returns s to the idle slots.
func (q *WorkQueue) release(s *producerSlot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.slots = append(q.slots, s)
}

// drop deletes a slot whose state is unknown, best-effort (it is ephemeral
// anyway); it is not used again. Deleting it also fences off any attempt
// still in flight.
func (q *WorkQueue) drop(s *producerSlot) {
	// Briefly: a guaranteed delete goes on in the background.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := q.c.Delete(ctx, s.path, framework.Quietly(), framework.Guaranteed()); err != nil {
		q.opts.logger.Debug("deleting a producer slot failed", zap.String("slot", s.path), zap.Error(err))
	}
}

// Close deletes this WorkQueue's idle producer slots (those of Puts in
// progress stay until their Put ends, and go with the session anyway). The
// WorkQueue stays usable: a later Put makes a new slot.
func (q *WorkQueue) Close(ctx context.Context) error {
	if q.err != nil {
		return q.err
	}
	q.mu.Lock()
	paths := make([]string, 0, len(q.slots))
	for _, s := range q.slots {
		paths = append(paths, s.path)
	}
	q.slots = nil
	q.mu.Unlock()
	return deleteAll(ctx, q.c, paths)
}

// Len returns the number of items in the queue: waiting, delayed and being
// handled (not the dead letters).
func (q *WorkQueue) Len(ctx context.Context) (int, error) {
	if q.err != nil {
		return 0, q.err
	}
	st, err := q.c.Exists(ctx, q.dir(itemsDir))
	if err != nil {
		return 0, fmt.Errorf("queue: len %s: %w", q.path, err)
	}
	if st == nil {
		return 0, nil
	}
	return int(st.NumChildren), nil
}

// DeadLetter is an item that failed MaxAttempts times, kept in the queue's
// dead-letter child.
type DeadLetter struct {
	// Path is the dead letter's node; delete it once dealt with.
	Path string
	// Data is the item's data as it was put.
	Data []byte
	// Priority is the item's priority.
	Priority int32
	// Attempts is how many times a handler failed on it.
	Attempts int
}

// DeadLetters lists the queue's dead letters, oldest first.
func (q *WorkQueue) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	if q.err != nil {
		return nil, q.err
	}
	kids, _, err := q.c.Children(ctx, q.dir(deadDir))
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: dead letters %s: %w", q.path, err)
	}
	var items []item
	for _, k := range kids {
		if it, ok := parseItem(k); ok {
			items = append(items, it)
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]DeadLetter, 0, len(items))
	for _, it := range items {
		p := q.dir(deadDir, it.name)
		data, _, err := q.c.Get(ctx, p)
		if errors.Is(err, zk.ErrNoNode) {
			continue // dealt with meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("queue: dead letters %s: %w", q.path, err)
		}
		out = append(out, DeadLetter{Path: p, Data: data, Priority: it.priority, Attempts: it.attempts})
	}
	return out, nil
}

// retryDelay is the backoff before delivery number attempts+1, from the
// backoff library's exponential policy.
func (o *options) retryDelay(attempts int) time.Duration {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(o.backoffFirst),
		backoff.WithMaxInterval(o.backoffMax),
		backoff.WithMaxElapsedTime(0),
	)
	d := b.NextBackOff()
	for i := 1; i < attempts; i++ {
		d = b.NextBackOff()
	}
	return min(d, o.backoffMax)
}
