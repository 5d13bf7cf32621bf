package counter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/lock"
)

// Result is the outcome of an AtomicLong update (Curator's AtomicValue).
type Result struct {
	// Succeeded is false only for a CompareAndSet whose expected value did
	// not match (every other failure is an error).
	Succeeded bool
	// PreValue is the value the update started from; PostValue the value
	// written (equal to PreValue when nothing was written).
	PreValue, PostValue int64
	// OptimisticTries and PromotedTries count the attempts made.
	OptimisticTries, PromotedTries int
}

// AtomicOption configures an AtomicLong.
type AtomicOption func(*AtomicLong)

// WithRetryPolicy sets how often an optimistic update is tried again after
// losing to another writer (default: 10 more tries, 10 ms apart). It is not
// the client's retry policy for connection loss.
func WithRetryPolicy(p framework.RetryPolicy) AtomicOption {
	return func(a *AtomicLong) { a.retry = p }
}

// WithLock makes updates that lost every optimistic try take l and try again
// under it (Curator's PromotedToLock). The default is a recipes/lock Mutex
// (Curator's InterProcessMutex) on <path>-lock, the path Curator's
// DistributedAtomicLong promotes to.
func WithLock(l Locker) AtomicOption { return func(a *AtomicLong) { a.lock = l } }

// WithoutLock turns promotion off: contention beyond the retry policy is
// ErrGaveUp.
func WithoutLock() AtomicOption { return func(a *AtomicLong) { a.lock, a.noLock = nil, true } }

// WithLockRetryPolicy sets how often a promoted update is tried again while
// holding the lock (default: once, as Curator's RetryNTimes(0, 0)).
func WithLockRetryPolicy(p framework.RetryPolicy) AtomicOption {
	return func(a *AtomicLong) { a.lockRetry = p }
}

// AtomicLong is Curator's DistributedAtomicLong: a 64-bit counter updated by
// read, compute, versioned write; when every try loses to another writer it
// takes a lock and tries again under it. Its methods are safe for concurrent
// use and each is one blocking call bounded by its ctx.
//
// Layout: <path>, data = 8 big-endian bytes (a missing node or empty data
// reads as 0); the lock <path>-lock/_c_<uuid>-lock-<seq> while promoted.
//
// Writes are single-operation transactions, so a write whose reply was lost
// is never repeated blindly: when the node's state cannot prove that the
// write did not happen, the update fails with an error wrapping
// framework.ErrMaybeApplied (read the counter to learn the outcome).
//
// Connection states: SUSPENDED makes a running update wait for the
// connection (up to the client's connection timeout and retry policy);
// RECONNECTED resumes it; LOST ends any promoted hold's node with the
// session, which is harmless because writes are version-checked.
type AtomicLong struct {
	c         *framework.Client
	path      string
	retry     framework.RetryPolicy
	lockRetry framework.RetryPolicy
	lock      Locker
	noLock    bool
}

// NewAtomicLong returns the counter at path (relative to c's namespace). An
// invalid path is an error wrapping framework.ErrInvalidPath; nothing is
// created before the first update.
func NewAtomicLong(c *framework.Client, path string, opts ...AtomicOption) (*AtomicLong, error) {
	if c == nil {
		return nil, errors.New("counter: nil client")
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	a := &AtomicLong{c: c, path: path,
		retry:     framework.RetryNTimes(10, 10*time.Millisecond),
		lockRetry: framework.NoRetry()}
	for _, o := range opts {
		o(a)
	}
	if a.lock == nil && !a.noLock {
		a.lock = lock.NewMutex(c, path+"-lock")
	}
	return a, nil
}

// EncodeInt64 is Curator DistributedAtomicLong's encoding.
func EncodeInt64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// DecodeInt64 reads Curator DistributedAtomicLong's encoding; empty is 0.
func DecodeInt64(b []byte) (int64, error) {
	switch len(b) {
	case 0:
		return 0, nil
	case 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("%w: %d bytes, want 8", ErrCorrupt, len(b))
}

// Get returns the current value (0 when the node does not exist).
func (a *AtomicLong) Get(ctx context.Context) (int64, error) {
	v, _, err := a.read(ctx)
	return v, err
}

// read returns the value and stat (nil when the node is missing).
func (a *AtomicLong) read(ctx context.Context) (int64, *zk.Stat, error) {
	data, st, err := a.c.Get(ctx, a.path)
	if errors.Is(err, zk.ErrNoNode) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("counter: read %s: %w", a.path, err)
	}
	v, err := DecodeInt64(data)
	if err != nil {
		return 0, nil, fmt.Errorf("counter: %s: %w", a.path, err)
	}
	return v, st, nil
}

// Add adds delta and returns the values before and after.
func (a *AtomicLong) Add(ctx context.Context, delta int64) (Result, error) {
	return a.update(ctx, func(pre int64) int64 { return pre + delta })
}

// Increment adds 1.
func (a *AtomicLong) Increment(ctx context.Context) (Result, error) { return a.Add(ctx, 1) }

// Decrement subtracts 1.
func (a *AtomicLong) Decrement(ctx context.Context) (Result, error) { return a.Add(ctx, -1) }

// Subtract subtracts delta.
func (a *AtomicLong) Subtract(ctx context.Context, delta int64) (Result, error) {
	return a.Add(ctx, -delta)
}

// TrySet writes v whatever the current value, without overwriting a
// concurrent update it did not see (the write is versioned).
func (a *AtomicLong) TrySet(ctx context.Context, v int64) (Result, error) {
	return a.update(ctx, func(int64) int64 { return v })
}

// CompareAndSet writes v if the value is expected; Succeeded is false (and
// the error nil) when it is not, or when another writer changed it between
// the read and the write. A missing node does not match any expected value,
// as in Curator.
func (a *AtomicLong) CompareAndSet(ctx context.Context, expected, v int64) (Result, error) {
	pre, st, err := a.read(ctx)
	res := Result{PreValue: pre, PostValue: pre, OptimisticTries: 1}
	if err != nil || st == nil || pre != expected {
		return res, err
	}
	ok, err := a.write(ctx, st, v)
	if ok {
		res.Succeeded, res.PostValue = true, v
	}
	return res, err
}

// ForceSet writes v unconditionally, creating the node if needed.
func (a *AtomicLong) ForceSet(ctx context.Context, v int64) error {
	_, err := a.c.Set(ctx, a.path, EncodeInt64(v))
	if errors.Is(err, zk.ErrNoNode) {
		_, err = a.c.Create(ctx, a.path, EncodeInt64(v), framework.WithContainerParents())
		if errors.Is(err, zk.ErrNodeExists) {
			_, err = a.c.Set(ctx, a.path, EncodeInt64(v))
		}
	}
	if err != nil {
		return fmt.Errorf("counter: force set %s: %w", a.path, err)
	}
	return nil
}

// Initialize creates the node with v if it does not exist, and reports
// whether it did.
func (a *AtomicLong) Initialize(ctx context.Context, v int64) (bool, error) {
	_, err := a.c.Create(ctx, a.path, EncodeInt64(v), framework.WithContainerParents())
	switch {
	case errors.Is(err, zk.ErrNodeExists):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("counter: initialize %s: %w", a.path, err)
	}
	return true, nil
}

// update runs the optimistic tries, then the promoted ones.
func (a *AtomicLong) update(ctx context.Context, next func(int64) int64) (Result, error) {
	var res Result
	done, err := a.tries(ctx, a.retry, &res.OptimisticTries, &res, next)
	if done || err != nil {
		return res, err
	}
	if a.lock == nil {
		return res, fmt.Errorf("counter: update %s: %w", a.path, ErrGaveUp)
	}
	if err := a.lock.Lock(ctx); err != nil {
		return res, fmt.Errorf("counter: update %s: %w", a.path, err)
	}
	done, err = a.tries(ctx, a.lockRetry, &res.PromotedTries, &res, next)
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if uerr := a.lock.Unlock(uctx); uerr != nil && err == nil && !done {
		err = uerr
	}
	if done || err != nil {
		return res, err
	}
	return res, fmt.Errorf("counter: update %s: %w", a.path, ErrGaveUp)
}

// tries makes attempts until one wins, policy says stop, or an error.
func (a *AtomicLong) tries(ctx context.Context, policy framework.RetryPolicy, count *int, res *Result, next func(int64) int64) (bool, error) {
	b := policy.NewBackOff()
	for {
		*count++
		pre, st, err := a.read(ctx)
		if err != nil {
			return false, err
		}
		post := next(pre)
		res.PreValue, res.PostValue = pre, pre
		ok, err := a.write(ctx, st, post)
		if err != nil {
			return false, err
		}
		if ok {
			res.Succeeded, res.PostValue = true, post
			return true, nil
		}
		d := b.NextBackOff()
		if d == backoff.Stop {
			return false, nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		}
	}
}

// write creates (st nil) or sets at st's version, in a one-operation
// transaction: false when another writer got there first.
func (a *AtomicLong) write(ctx context.Context, st *zk.Stat, v int64) (bool, error) {
	data := EncodeInt64(v)
	var err error
	if st == nil {
		// Parents first: a transaction cannot create them.
		parent, _ := framework.SplitPath(a.path)
		if parent != "/" {
			if err := a.c.EnsurePath(ctx, parent, framework.AsContainers()); err != nil {
				return false, fmt.Errorf("counter: %w", err)
			}
		}
		_, err = a.c.Txn().Create(a.path, data, framework.ModePersistent, nil).Commit(ctx)
	} else {
		_, err = a.c.Txn().Set(a.path, data, st.Version).Commit(ctx)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, zk.ErrNodeExists), errors.Is(err, zk.ErrBadVersion), errors.Is(err, zk.ErrNoNode):
		return false, nil
	case errors.Is(err, framework.ErrMaybeApplied):
		// The reply was lost. If the node is as we read it, our write did not
		// happen and the update may go on; otherwise nobody can tell.
		if _, now, rerr := a.read(ctx); rerr == nil && sameState(st, now) {
			return false, nil
		}
		return false, fmt.Errorf("counter: update %s: %w", a.path, err)
	}
	return false, fmt.Errorf("counter: update %s: %w", a.path, err)
}

// sameState reports whether the node has not changed from before to now.
func sameState(before, now *zk.Stat) bool {
	if before == nil || now == nil {
		return before == nil && now == nil
	}
	return before.Czxid == now.Czxid && before.Version == now.Version
}
