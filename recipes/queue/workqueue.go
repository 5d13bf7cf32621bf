package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
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
	putsDir      = "puts"
)

// Put marker data: what a Put's transaction writes, and what a Put that
// gives up writes to fence its lost attempts off.
var putMark = []byte("put")

// DefaultPutWindow is how long put markers are kept unless WithPutWindow
// says otherwise.
const DefaultPutWindow = 10 * time.Minute

// ErrMaybePut is returned by Put (and PutPriority, PutDelayed) when an
// attempt to put the item may have applied and Put could not learn whether
// it did: the connection stayed down (or ctx ended and a fence could not be
// written) for longer than half the put window (WithPutWindow), after which
// the marker that would tell may have been collected. It wraps
// framework.ErrMaybeApplied.
var ErrMaybePut = fmt.Errorf("queue: item may have been put: %w", framework.ErrMaybeApplied)

// WorkQueue is a job queue: items are delivered to handlers and removed only
// once a handler succeeded; see the package documentation for its layout and
// guarantees. Its methods are safe for concurrent use.
type WorkQueue struct {
	c    *framework.Client
	path string
	opts options
	err  error

	lastCollect atomic.Int64 // when a Put of this value last collected old put markers (Unix ns)

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
	putWindow    time.Duration
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
		putWindow:    DefaultPutWindow,
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

// WithPutWindow sets how long a put marker (see the package documentation)
// is kept before a later Put deletes it (default DefaultPutWindow). A Put
// that cannot learn within half the window whether its item was put returns
// ErrMaybePut rather than risk putting it twice. The producers' clocks must
// agree to within half the window: a marker is named by its producer's clock
// and collected by the others'.
func WithPutWindow(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.err = fmt.Errorf("%w: put window %v", ErrInvalidOption, d)
		}
		o.putWindow = d
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
	return &WorkQueue{c: c, path: path, opts: o, err: err}
}

func (q *WorkQueue) dir(name string, children ...string) string {
	return framework.JoinPath(q.path, append([]string{name}, children...)...)
}

// Put adds data to the queue with priority 0, for delivery at once. It
// retries across connection loss and never puts the item twice (see the
// package documentation). If ctx ends while an attempt is in flight, Put
// settles it, for up to 30 s more (like Take): nil if the item was put after
// all, ctx's error if it was not (and never will be), ErrMaybePut if it
// cannot tell; ErrMaybePut too when the connection stays down for half the
// put window.
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

// put creates the item and its put marker in one transaction; see putOnce.
func (q *WorkQueue) put(ctx context.Context, data []byte, priority int32, at time.Time) error {
	if q.err != nil {
		return q.err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("queue: put %s: %w", q.path, err)
	}
	id, start := uuid.New(), time.Now()
	marker := q.dir(putsDir, markerName(start, id))
	// The item keeps Curator's protected prefix with the marker's uuid, so
	// an item can be traced to its Put.
	itemPath := q.dir(itemsDir, framework.ProtectedName(id, itemBase(priority, at, 0)))
	if err := q.putOnce(ctx, marker, itemPath, data, start); err != nil {
		return fmt.Errorf("queue: put %s: %w", q.path, err)
	}
	q.collectMarkers(ctx, start)
	return nil
}

// putOnce commits {create marker, create item} until it is known to have
// applied exactly once. The marker makes the transaction idempotent: a retry
// after a lost reply fails with NodeExists if an earlier attempt applied,
// whether or not a consumer has handled and deleted the item since, and an
// attempt that reaches the server late fails the same way once a retry
// applied. (Listing the items for the protected prefix, as a protected create
// does, cannot tell "never applied" from "applied and already consumed".)
func (q *WorkQueue) putOnce(ctx context.Context, marker, itemPath string, data []byte, start time.Time) error {
	maybe := false // an attempt may have applied
	noNode := 0
	delay := 10 * time.Millisecond
	for {
		if maybe && time.Since(start) > q.opts.putWindow/2 {
			// The marker may have been collected since: a retry proves nothing.
			return fmt.Errorf("%w: outcome unknown after %v", ErrMaybePut, time.Since(start).Round(time.Millisecond))
		}
		_, err := q.c.Txn().Create(marker, putMark, framework.ModePersistent, nil).
			Create(itemPath, data, framework.ModePersistentSequential, nil).Commit(ctx)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, zk.ErrNodeExists) && maybe:
			// Only this Put's transactions make its marker (the item's name
			// is sequential, so it cannot exist): an earlier attempt applied.
			return nil
		case errors.Is(err, zk.ErrNodeExists):
			// No earlier attempt reached the server, so not our marker.
			return err
		case errors.Is(err, zk.ErrNoNode) && noNode < 3:
			// A directory is missing (nothing put yet, or reaped while
			// empty): nothing applied. Make them and try again.
			noNode++
			if err := q.ensureDirs(ctx); err != nil && ctx.Err() == nil && !framework.IsRetryable(err) {
				return err
			}
			if ctx.Err() == nil {
				continue
			}
		case errors.Is(err, framework.ErrMaybeApplied):
			maybe = true
		case ctx.Err() != nil:
			// The request may have been sent before ctx ended.
			maybe = true
		case !framework.IsRetryable(err):
			return err
		}
		if ctx.Err() != nil || errors.Is(err, framework.ErrClosed) {
			if !maybe {
				return cmpErr(ctx, err)
			}
			return q.fencePut(ctx, marker, start, cmpErr(ctx, err))
		}
		if err := sleep(ctx, q.c, delay); err != nil {
			if !maybe {
				return err
			}
			return q.fencePut(ctx, marker, start, err)
		}
		delay = min(2*delay, time.Second)
	}
}

// fencePut settles a Put that ends (its ctx ended, or the client closed)
// while an attempt may have applied: it creates the marker alone, with other
// data. If that succeeds no attempt applied, and none ever will, since each
// needs to create the marker; if the marker exists with a put's data, an
// attempt applied and Put succeeded after all. Otherwise the outcome is
// unknown: ErrMaybePut, wrapping cause.
func (q *WorkQueue) fencePut(ctx context.Context, marker string, start time.Time, cause error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	for try := 0; try < 5 && time.Since(start) <= q.opts.putWindow/2; try++ {
		_, err := q.c.Create(sctx, marker, fenceMark, framework.WithMode(framework.ModePersistent))
		switch {
		case err == nil:
			return fmt.Errorf("%w (the item was not put)", cause)
		case errors.Is(err, zk.ErrNodeExists):
			got, _, gerr := q.c.Get(sctx, marker)
			switch {
			case gerr == nil && string(got) == string(putMark):
				return nil
			case gerr == nil:
				// Our own fence, whose reply was lost.
				return fmt.Errorf("%w (the item was not put)", cause)
			}
			err = gerr
		case errors.Is(err, zk.ErrNoNode):
			// No puts directory, so no marker yet; a late attempt would make
			// one if the directory came back: fence with the directory made.
			if err = q.c.EnsurePath(sctx, q.dir(putsDir), framework.AsContainers()); err == nil {
				continue
			}
		}
		if !framework.IsRetryable(err) && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("%w (%w; fencing: %w)", ErrMaybePut, cause, err)
		}
	}
	return fmt.Errorf("%w (%w)", ErrMaybePut, cause)
}

// ensureDirs makes the items and puts directories.
func (q *WorkQueue) ensureDirs(ctx context.Context) error {
	for _, d := range []string{itemsDir, putsDir} {
		if err := q.c.EnsurePath(ctx, q.dir(d), framework.AsContainers()); err != nil {
			return err
		}
	}
	return nil
}

// collectMarkers deletes the put markers older than the put window, at most
// once per eighth of the window for each WorkQueue value (so the Put that
// does it pays one listing and a transaction per 64 old markers). Errors are
// only logged: a later Put tries again.
func (q *WorkQueue) collectMarkers(ctx context.Context, now time.Time) {
	last := q.lastCollect.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < q.opts.putWindow/8 {
		return
	}
	if !q.lastCollect.CompareAndSwap(last, now.UnixNano()) {
		return // another Put is collecting
	}
	kids, _, err := q.c.Children(ctx, q.dir(putsDir))
	if err != nil {
		if !errors.Is(err, zk.ErrNoNode) {
			q.opts.logger.Debug("listing the put markers failed", zap.String("queue", q.path), zap.Error(err))
		}
		return
	}
	cutoff := now.Add(-q.opts.putWindow).UnixMilli()
	var old []string
	for _, k := range kids {
		if ms, ok := parseMarker(k); ok && ms < cutoff {
			old = append(old, q.dir(putsDir, k))
		}
	}
	for len(old) > 0 {
		batch := old[:min(len(old), 64)]
		old = old[len(batch):]
		txn := q.c.Txn()
		for _, p := range batch {
			txn.Delete(p, -1)
		}
		if _, err := txn.Commit(ctx); err == nil {
			continue
		}
		// One may be gone already (another producer collecting): one by one.
		for _, p := range batch {
			if err := q.c.Delete(ctx, p, framework.Quietly()); err != nil {
				q.opts.logger.Debug("deleting a put marker failed", zap.String("marker", p), zap.Error(err))
				return
			}
		}
	}
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
