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
)

// WorkQueue is a job queue: items are delivered to handlers and removed only
// once a handler succeeded; see the package documentation for its layout and
// guarantees. Its methods are safe for concurrent use.
type WorkQueue struct {
	c    *framework.Client
	path string
	opts options
	err  error

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
	return &WorkQueue{c: c, path: path, opts: o, err: err}
}

func (q *WorkQueue) dir(name string, children ...string) string {
	return framework.JoinPath(q.path, append([]string{name}, children...)...)
}

// Put adds data to the queue with priority 0, for delivery at once.
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

// put creates the item with protection, so a create whose reply was lost is
// found again instead of being made twice.
func (q *WorkQueue) put(ctx context.Context, data []byte, priority int32, at time.Time) error {
	if q.err != nil {
		return q.err
	}
	_, err := q.c.Create(ctx, q.dir(itemsDir, itemBase(priority, at, 0)), data,
		framework.WithMode(framework.ModePersistentSequential), framework.WithProtection(), framework.WithContainerParents())
	if err != nil {
		return fmt.Errorf("queue: put %s: %w", q.path, err)
	}
	return nil
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
