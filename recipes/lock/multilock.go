package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/herd-io/herd/framework"
)

// MultiLock is Curator's InterProcessMultiLock: several locks taken as one,
// all or none. They are taken in the order given and released in reverse;
// use the same order everywhere to avoid deadlock between processes.
//
// Layout: each path is a Mutex's (<path>/_c_<uuid>-lock-<seq>). Connection
// states: each lock reacts as a Mutex does; the MultiLock's Lost closes when
// any of its locks' does.
type MultiLock struct {
	locks []*Mutex
	err   error

	mu   sync.Mutex
	held bool
	lost chan struct{}
}

// NewMultiLock returns a MultiLock over a Mutex for each path, each with
// opts. No paths, the same path twice (which would wait on itself for ever),
// a nil client or an invalid path are reported by every call.
func NewMultiLock(c *framework.Client, paths []string, opts ...Option) *MultiLock {
	locks := make([]*Mutex, len(paths))
	for i, p := range paths {
		locks[i] = NewMutex(c, p, opts...)
	}
	return Multi(locks...)
}

// Multi returns a MultiLock over the given Mutex values.
func Multi(locks ...*Mutex) *MultiLock {
	ml := &MultiLock{locks: locks}
	if len(locks) == 0 {
		ml.err = fmt.Errorf("multilock: %w: no locks", ErrInvalidArgument)
	}
	seen := map[string]bool{}
	for _, m := range locks {
		switch {
		case ml.err != nil:
		case m == nil:
			ml.err = fmt.Errorf("multilock: %w: nil lock", ErrInvalidArgument)
		case m.err != nil:
			ml.err = m.err
		case seen[m.path]:
			ml.err = fmt.Errorf("multilock: %w: %s given twice", ErrInvalidArgument, m.path)
		}
		if m != nil {
			seen[m.path] = true
		}
	}
	return ml
}

// Lock takes every lock in order, blocking until all are held. If one fails
// (ctx ends, the client closes), those already taken are released in
// reverse order and the error is returned.
func (ml *MultiLock) Lock(ctx context.Context) error {
	return ml.take(ctx, (*Mutex).Lock)
}

// TryLock takes every lock if each is free now; otherwise it releases what it
// took and returns ErrLocked.
func (ml *MultiLock) TryLock(ctx context.Context) error {
	return ml.take(ctx, (*Mutex).TryLock)
}

func (ml *MultiLock) take(ctx context.Context, lock func(*Mutex, context.Context) error) error {
	if ml.err != nil {
		return ml.err
	}
	for i, m := range ml.locks {
		if err := lock(m, ctx); err != nil {
			cctx, cancel := cleanupCtx(ctx)
			defer cancel()
			for j := i - 1; j >= 0; j-- {
				_ = ml.locks[j].Unlock(cctx)
			}
			return fmt.Errorf("multilock: %w", err)
		}
	}
	lost := make(chan struct{})
	var once sync.Once
	for _, m := range ml.locks {
		// Each hold's Lost closes on its Unlock at the latest, so these end.
		go func(ch <-chan struct{}) {
			<-ch
			once.Do(func() { close(lost) })
		}(m.Lost())
	}
	ml.mu.Lock()
	ml.held, ml.lost = true, lost
	ml.mu.Unlock()
	return nil
}

// Unlock releases every lock in reverse order and returns the errors joined
// (ErrNotHeld when the MultiLock is not held).
func (ml *MultiLock) Unlock(ctx context.Context) error {
	if ml.err != nil {
		return ml.err
	}
	ml.mu.Lock()
	held := ml.held
	ml.held = false
	ml.mu.Unlock()
	if !held {
		return fmt.Errorf("multilock: %w", ErrNotHeld)
	}
	var errs []error
	for i := len(ml.locks) - 1; i >= 0; i-- {
		if err := ml.locks[i].Unlock(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Held reports whether every lock is held and trusted.
func (ml *MultiLock) Held() bool {
	ml.mu.Lock()
	held := ml.held
	ml.mu.Unlock()
	if !held {
		return false
	}
	for _, m := range ml.locks {
		if !m.Held() {
			return false
		}
	}
	return true
}

// Lost returns a channel closed when any lock's hold ends or can no longer
// be trusted; already closed when not held.
func (ml *MultiLock) Lost() <-chan struct{} {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	if !ml.held {
		return closed
	}
	return ml.lost
}

// Tokens returns each lock's fencing token, in the order given (zeros when
// not held).
func (ml *MultiLock) Tokens() []int64 {
	out := make([]int64, len(ml.locks))
	for i, m := range ml.locks {
		out[i] = m.Token()
	}
	return out
}
