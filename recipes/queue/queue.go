package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"

	"github.com/herd-io/herd/framework"
)

// itemPrefix names a Queue's items (Curator's SimpleDistributedQueue and
// ZooKeeper's own queue recipe).
const itemPrefix = "qn-"

// receiptPrefix names a taker's receipt node.
const receiptPrefix = "taker-"

// Receipt data written by a take and by a settling fence: different bytes,
// so that a retried set can tell its own write from the other one.
var (
	takeMark  = []byte("take")
	fenceMark = []byte("fence")
)

// ErrMaybeTaken is returned with an item's data by Take when the connection
// failed while the item was being taken and the session ended before the
// outcome could be learnt: the item is no longer in the queue, and this
// taker may or may not be the one that removed it. It wraps
// framework.ErrMaybeApplied.
var ErrMaybeTaken = fmt.Errorf("queue: item may have been taken by another taker: %w", framework.ErrMaybeApplied)

// Queue is a FIFO queue with the layout of Curator's SimpleDistributedQueue,
// so Curator and ZooKeeper's Java queue recipe can put and take on it too.
// Unlike theirs, Take hands every item to exactly one taker also when a
// connection fails mid-take. Its methods are safe for concurrent use.
type Queue struct {
	c    *framework.Client
	path string
	err  error

	mu        sync.Mutex
	cached    []string   // item names of the last listing not yet tried, in order
	contended bool       // a take of this listing found its item taken by another taker
	receipts  []*receipt // idle receipts

	lists atomic.Int64 // listings of the queue by Take (for tests)
}

// receipt is a taker's ephemeral node whose version counts its takes: every
// take sets it at the version last seen, in the same multi as the delete of
// the item, so after a lost reply one versioned write tells whether the take
// happened (see settle).
type receipt struct {
	path    string
	version int32
}

// NewQueue returns the queue at path. Invalid arguments are reported by every
// method (wrapping framework.ErrInvalidPath or ErrNilClient).
func NewQueue(c *framework.Client, path string) *Queue {
	return &Queue{c: c, path: path, err: checkArgs(c, path)}
}

// Put appends data to the queue (creating the queue's node and missing
// parents as containers). The create is not protected, since Curator's takers
// only take "qn-" nodes, so when the connection fails mid-put Put returns an
// error wrapping framework.ErrMaybeApplied: the item may or may not be in the
// queue.
func (q *Queue) Put(ctx context.Context, data []byte) error {
	if q.err != nil {
		return q.err
	}
	_, err := q.c.Create(ctx, framework.JoinPath(q.path, itemPrefix), data,
		framework.WithMode(framework.ModePersistentSequential), framework.WithContainerParents())
	if err != nil {
		return fmt.Errorf("queue: put %s: %w", q.path, err)
	}
	return nil
}

// PutAll appends items in order in one transaction: all or none. A failed
// connection mid-commit is reported like Put's (framework.ErrMaybeApplied).
// A transaction is one request, so its size is bounded by the server's
// request limit (jute.maxbuffer, 1 MiB by default).
func (q *Queue) PutAll(ctx context.Context, items [][]byte) error {
	if q.err != nil {
		return q.err
	}
	if len(items) == 0 {
		return nil
	}
	for try := 0; ; try++ {
		if err := q.c.EnsurePath(ctx, q.path, framework.AsContainers()); err != nil {
			return fmt.Errorf("queue: put %s: %w", q.path, err)
		}
		txn := q.c.Txn()
		for _, data := range items {
			txn.Create(framework.JoinPath(q.path, itemPrefix), data, framework.ModePersistentSequential, nil)
		}
		_, err := txn.Commit(ctx)
		if err == nil {
			return nil
		}
		// NoNode: the empty container was reaped between EnsurePath and the
		// commit, which then created nothing: make it again.
		if !errors.Is(err, zk.ErrNoNode) || try == 2 {
			return fmt.Errorf("queue: put %s: %w", q.path, err)
		}
	}
}

// Len returns the number of items in the queue.
func (q *Queue) Len(ctx context.Context) (int, error) {
	if q.err != nil {
		return 0, q.err
	}
	kids, _, err := q.c.Children(ctx, q.path)
	if errors.Is(err, zk.ErrNoNode) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("queue: len %s: %w", q.path, err)
	}
	return len(itemNames(kids)), nil
}

// Take removes the head of the queue and returns its data, blocking until
// there is an item or ctx ends. Each item goes to exactly one taker; see
// ErrMaybeTaken for the one case where a taker cannot know. A lone taker gets
// the items in order; a taker that meets competition (another taker took the
// item it tried) picks among the oldest few items from then on, so that
// takers do not all collide on the head.
//
// The first Take of a session creates this Queue's receipt, an ephemeral
// "taker-<uuid>" node in the queue's directory that later takes reuse (it is
// what lets a take learn its own outcome after a lost reply). Curator's and
// ZooKeeper's takers skip it as a foreign node. Close deletes it; otherwise it
// goes with the session.
func (q *Queue) Take(ctx context.Context) ([]byte, error) {
	if q.err != nil {
		return nil, q.err
	}
	for {
		name, err := q.next(ctx)
		if err != nil {
			return nil, err
		}
		data, done, err := q.take(ctx, framework.JoinPath(q.path, name))
		if done || err != nil {
			return data, err
		}
		// Another taker had it: takers walking the same listing in step
		// would keep colliding, so until the next listing pick among the
		// first few (spread).
		q.mu.Lock()
		q.contended = true
		q.mu.Unlock()
	}
}

// next returns the name of the next item to try, listing the queue when the
// last listing is used up, and waiting for an item when the queue is empty.
// It returns the oldest item, or, once takers compete, one of the oldest few.
// Items created after a listing have higher sequence numbers than every item
// in it, so working through one listing before the next keeps FIFO order
// without listing the queue again for every item (what makes Curator's
// queues slow on long backlogs).
func (q *Queue) next(ctx context.Context) (string, error) {
	for {
		q.mu.Lock()
		if n := len(q.cached); n > 0 {
			i := 0
			if q.contended {
				i = rand.IntN(min(n, spread))
			}
			// Take cached[i]; the head moves into its slot (O(1), and the
			// head stays among the first few).
			name := q.cached[i]
			q.cached[i] = q.cached[0]
			q.cached = q.cached[1:]
			q.mu.Unlock()
			return name, nil
		}
		q.mu.Unlock()
		q.lists.Add(1)
		kids, _, err := q.c.Children(ctx, q.path)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return "", fmt.Errorf("queue: take %s: %w", q.path, err)
		}
		names := itemNames(kids)
		if len(names) == 0 {
			if names, err = q.waitForItems(ctx); err != nil {
				return "", err
			}
		}
		q.mu.Lock()
		q.cached, q.contended = names, false
		q.mu.Unlock()
	}
}

// waitForItems returns the queue's items once there are any.
func (q *Queue) waitForItems(ctx context.Context) ([]string, error) {
	for {
		kids, _, ch, err := q.c.ChildrenW(ctx, q.path)
		if errors.Is(err, zk.ErrNoNode) {
			// No queue node yet: wait for a producer to create it.
			var st *zk.Stat
			st, ch, err = q.c.ExistsW(ctx, q.path)
			if err == nil && st != nil {
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("queue: take %s: %w", q.path, err)
		}
		if names := itemNames(kids); len(names) > 0 {
			return names, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// take tries to take the item at p. done reports whether Take is over (the
// item is ours, or an error ends the call); false means try the next item.
func (q *Queue) take(ctx context.Context, p string) (data []byte, done bool, err error) {
	data, _, err = q.c.Get(ctx, p)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, false, nil // another taker had it
	}
	if err != nil {
		return nil, true, fmt.Errorf("queue: take %s: %w", q.path, err)
	}
	if testHookBeforeTake != nil {
		testHookBeforeTake()
	}
	r, err := q.receipt(ctx)
	if err != nil {
		return nil, true, err
	}
	defer func() { q.release(r) }() // r may be replaced below
	for {
		_, err = q.c.Txn().Set(r.path, takeMark, r.version).Delete(p, -1).Commit(ctx)
		switch {
		case err == nil:
			r.version++
			return data, true, nil
		case errors.Is(err, zk.ErrNoNode):
			// Nothing applied: either the item or our receipt is gone.
			st, err := q.c.Exists(ctx, r.path)
			if err != nil {
				return nil, true, fmt.Errorf("queue: take %s: %w", q.path, err)
			}
			if st != nil {
				return nil, false, nil // another taker had the item
			}
			// The receipt went with its session: take with a new one.
			r.path = ""
			if r, err = q.receipt(ctx); err != nil {
				return nil, true, err
			}
			continue
		case errors.Is(err, zk.ErrBadVersion):
			// Nothing applied, but our count of the receipt is off (nothing
			// else should write it): read the version and try again.
			_, st, err := q.c.Get(ctx, r.path)
			if err != nil {
				return nil, true, fmt.Errorf("queue: take %s: %w", q.path, err)
			}
			r.version = st.Version
			continue
		case !framework.IsRetryable(err) && !errors.Is(err, framework.ErrMaybeApplied) && ctx.Err() == nil:
			return nil, true, fmt.Errorf("queue: take %s: %w", q.path, err)
		}
		// The multi may or may not have been applied: the connection failed,
		// or ctx ended, while it was in flight.
		taken, err := q.settle(ctx, r, p)
		switch {
		case err != nil:
			return data, true, fmt.Errorf("queue: take %s: %w", p, err)
		case taken:
			return data, true, nil
		case ctx.Err() != nil:
			return nil, true, ctx.Err()
		}
		// Not taken, and now it never will be by that multi: try again.
		if r.path == "" {
			if r, err = q.receipt(ctx); err != nil {
				return nil, true, err
			}
		}
	}
}

// testHookBeforeTake, set by tests, runs between reading an item and taking it.
var testHookBeforeTake func()

// settleTimeout bounds how long a take whose outcome is unknown keeps trying
// to learn it after the caller's ctx ended.
const settleTimeout = 30 * time.Second

// settle learns whether the take multi on r applied. It sets the receipt at
// the version the multi expected: the server applies one of the two first,
// and the other fails with BadVersion. So if the fence succeeds the multi
// never applies, not even a copy that reaches the server late, and if it
// fails with BadVersion the multi applied.
func (q *Queue) settle(ctx context.Context, r *receipt, item string) (taken bool, err error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	for {
		_, err := q.c.Set(sctx, r.path, fenceMark, framework.WithVersion(r.version))
		switch {
		case err == nil:
			r.version++
			return false, nil
		case errors.Is(err, zk.ErrBadVersion):
			data, st, gerr := q.c.Get(sctx, r.path)
			if gerr == nil && st.Version == r.version+1 && string(data) == string(takeMark) {
				r.version++
				return true, nil
			}
			if gerr == nil {
				// Not a state our takes produce: drop this receipt.
				r.path = ""
				return false, nil
			}
			err = gerr
		case errors.Is(err, zk.ErrNoNode):
			// The receipt went with its session. If the item is still there,
			// the multi did not apply; otherwise nobody can tell who took it.
			r.path = ""
			st, xerr := q.c.Exists(sctx, item)
			if xerr == nil && st != nil {
				return false, nil
			}
			if xerr == nil {
				return false, ErrMaybeTaken
			}
			err = xerr
		}
		if !framework.IsRetryable(err) || sctx.Err() != nil {
			return false, fmt.Errorf("%w (%w)", ErrMaybeTaken, err)
		}
	}
}

// receipt returns an idle receipt of the current session, creating one if
// needed.
func (q *Queue) receipt(ctx context.Context) (*receipt, error) {
	q.mu.Lock()
	if n := len(q.receipts); n > 0 {
		r := q.receipts[n-1]
		q.receipts = q.receipts[:n-1]
		q.mu.Unlock()
		return r, nil
	}
	q.mu.Unlock()
	p, err := q.c.Create(ctx, framework.JoinPath(q.path, receiptPrefix+uuid.NewString()), nil,
		framework.WithMode(framework.ModeEphemeral), framework.WithContainerParents())
	if err != nil {
		return nil, fmt.Errorf("queue: take %s: create receipt: %w", q.path, err)
	}
	return &receipt{path: p}, nil
}

// release returns r to the idle list, unless it was found unusable.
func (q *Queue) release(r *receipt) {
	if r == nil || r.path == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.receipts = append(q.receipts, r)
}

// Close deletes this Queue's receipts. The Queue stays usable: a later Take
// makes a new receipt.
func (q *Queue) Close(ctx context.Context) error {
	if q.err != nil {
		return q.err
	}
	q.mu.Lock()
	paths := make([]string, 0, len(q.receipts))
	for _, r := range q.receipts {
		paths = append(paths, r.path)
	}
	q.receipts = nil
	q.mu.Unlock()
	return deleteAll(ctx, q.c, paths)
}

// deleteAll deletes the nodes a queue value keeps for itself (a Queue's
// receipts, a WorkQueue's producer slots), guaranteed: a delete whose reply
// is lost is retried, so none is left behind while the session lives.
func deleteAll(ctx context.Context, c *framework.Client, paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := c.Delete(ctx, p, framework.Quietly(), framework.Guaranteed()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// itemNames returns the queue items among kids, in queue order.
func itemNames(kids []string) []string {
	names := slices.DeleteFunc(kids, func(k string) bool { return !strings.HasPrefix(k, itemPrefix) })
	slices.Sort(names)
	return names
}

// checkArgs validates a client and a recipe path. A recipe needs a node of
// its own, so the root is refused too. Namespace only validates the path and
// builds a view; it sends nothing.
func checkArgs(c *framework.Client, path string) error {
	if c == nil {
		return ErrNilClient
	}
	if _, err := c.Namespace(path); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	if path == "/" {
		return fmt.Errorf("queue: %w: the root cannot be a recipe's node", framework.ErrInvalidPath)
	}
	return nil
}

// ErrNilClient is returned by every method of a queue built on a nil client.
var ErrNilClient = errors.New("queue: nil client")
