package framework

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Watch is a running DataWatch (Watch[NodeData]) or ChildrenWatch
// (Watch[NodeChildren]): a kazoo-style watch that re-reads the node whenever
// it may have changed and re-arms itself across reconnects and new sessions.
//
// A Watch has its own lifetime. The context given to DataWatch or
// ChildrenWatch bounds only the setup (the first read); afterwards the watch
// runs until Stop, until its callback returns false, until the client
// closes, or until a read fails with an error that retrying cannot cure
// (such as zk.ErrNoAuth). Err then says which.
//
// Each new value is available three ways, use any: the callback given to
// DataWatch, called in order from the watch's own goroutine; Current, the
// latest value; and Events. Values are shared: do not modify them.
type Watch[T any] struct {
	stop   context.CancelFunc
	done   chan struct{}
	events chan T

	mu      sync.Mutex
	current T
	err     error
}

// Current returns the latest value the watch has read: what the callback was
// last called with (the zero value only before the first read).
func (w *Watch[T]) Current() T {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current
}

// Events returns a channel that receives each new value, in order. It holds
// one value: a value the reader has not taken yet is replaced by a newer one,
// so a slow reader skips to the latest value and never holds the watch up.
// The channel is closed when the watch ends. The first value is already in it
// when DataWatch or ChildrenWatch returns.
func (w *Watch[T]) Events() <-chan T { return w.events }

// Stop ends the watch: the callback is not called again once it has
// returned. Stop does not wait (it may be called from the callback); Done
// closes when the watch has ended. Stopping again does nothing.
func (w *Watch[T]) Stop() { w.stop() }

// Done is closed when the watch has ended and its callback will not be
// called again.
func (w *Watch[T]) Done() <-chan struct{} { return w.done }

// Err waits for the watch to end and says why: nil after Stop or when the
// callback returned false, an error wrapping ErrClosed when the client
// closed, or the read error that ended it (zk.ErrNoAuth, ...).
func (w *Watch[T]) Err() error {
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// publish makes v the current value and offers it on Events, replacing a
// value nobody took. Only the watch's goroutine sends, so after the drain
// the send cannot block.
func (w *Watch[T]) publish(v T) {
	w.mu.Lock()
	w.current = v
	w.mu.Unlock()
	select {
	case w.events <- v:
	default:
		select {
		case <-w.events:
		default:
		}
		w.events <- v
	}
}

// readFunc reads the watched state once and arms a ZooKeeper watch. It
// returns the watch channel and, when the state changed since the last
// read, the new value (changed is false otherwise).
type readFunc[T any] func(ctx context.Context, conn *zk.Conn) (ch <-chan zk.Event, v T, changed bool, err error)

// errCreatedMeanwhile makes the loop read again at once.
var errCreatedMeanwhile = errors.New("node created between getData and exists")

// startWatch runs the re-arming loop shared by DataWatch and ChildrenWatch
// and waits, at most until setup ends, for the first value. The loop runs on
// a goroutine Close does not wait for, since it runs the caller's callback.
func startWatch[T any](setup context.Context, c *Client, what string, read readFunc[T], fn func(T) bool) (*Watch[T], error) {
	cr := c.core
	wctx, stop := context.WithCancel(context.Background())
	w := &Watch[T]{stop: stop, done: make(chan struct{}), events: make(chan T, 1)}
	first := make(chan struct{})
	reconnected := make(chan struct{}, 1)
	remove := c.AddListener(func(s ConnectionState) {
		if s == Reconnected {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}
	})
	if !cr.goUser(func() {
		defer close(w.done)
		defer close(w.events)
		defer remove()
		defer stop()
		err := watchLoop(wctx, c, read, func(v T) bool {
			w.publish(v)
			return fn == nil || fn(v)
		}, first, reconnected)
		if err != nil {
			err = wrapOp(what, err)
		}
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
	}) {
		remove()
		stop()
		return nil, wrapOp(what, ErrClosed)
	}
	select {
	case <-first:
		return w, nil
	case <-w.done:
		if err := w.Err(); err != nil {
			return nil, err
		}
		return w, nil // the callback returned false on the first value
	case <-setup.Done():
		w.Stop()
		return nil, wrapOp(what, setup.Err())
	}
}

// watchLoop reads, delivers and waits for the next change until ctx ends
// (Stop), deliver returns false or the client closes. It returns nil for the
// first two.
func watchLoop[T any](ctx context.Context, c *Client, read readFunc[T], deliver func(T) bool, first chan struct{}, reconnected <-chan struct{}) error {
	cr := c.core
	delay := 10 * time.Millisecond
	firstOpen := true
	pause := func() error {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-cr.done:
			return ErrClosed
		}
		delay = min(2*delay, time.Second)
		return nil
	}
	for {
		if err := cr.waitConnected(ctx); err != nil {
			if errors.Is(err, ErrClosed) {
				return ErrClosed
			}
			return nil // stopped
		}
		conn, _, err := cr.current()
		if err != nil {
			return err
		}
		if err := c.ensureNamespace(ctx, conn); err != nil && !IsRetryable(err) {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		ch, v, changed, err := read(ctx, conn)
		if errors.Is(err, errCreatedMeanwhile) {
			continue
		}
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case cr.isClosed():
				return ErrClosed
			case !IsRetryable(err):
				return err
			}
			// The connection is going down; the states will catch up.
			if err := pause(); err != nil {
				return stopped(err)
			}
			continue
		}
		delay = 10 * time.Millisecond
		if changed {
			// A callback is not started once the watch or the client is over.
			if ctx.Err() != nil {
				return nil
			}
			if cr.isClosed() {
				return ErrClosed
			}
			if !deliver(v) {
				return nil
			}
		}
		if firstOpen {
			close(first)
			firstOpen = false
		}
		select {
		case <-ch: // changed, or the watch ended with the session: read again
		case <-reconnected: // re-read, in case SetWatches did not restore it
		case <-ctx.Done():
			return nil
		case <-cr.done:
			return ErrClosed
		}
	}
}

// stopped maps the end of a wait to the loop's result: nil when the watch
// was stopped, ErrClosed when the client closed.
func stopped(err error) error {
	if errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	return nil
}
