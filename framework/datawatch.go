package framework

import (
	"context"
	"errors"
	"time"

	"github.com/go-zookeeper/zk"
)

// Watch is a running DataWatch or ChildrenWatch.
type Watch struct {
	done chan struct{}
	err  error
}

// Done is closed when the watch has stopped and its callback will not be
// called again.
func (w *Watch) Done() <-chan struct{} { return w.done }

// Err says why the watch stopped, after Done is closed: nil when the callback
// returned false, the context's error, ErrClosed, or a non-retryable error
// such as zk.ErrNoAuth.
func (w *Watch) Err() error {
	<-w.done
	return w.err
}

// DataFunc receives the node's data and stat, or (nil, nil) while the node
// does not exist. Returning false stops the watch.
type DataFunc func(data []byte, stat *zk.Stat) bool

// DataWatch calls fn with the node's current data, then again each time it
// changes, in order, from one goroutine, until fn returns false, ctx ends or
// the client closes (kazoo's DataWatch). A missing node is reported as
// (nil, nil) and watched for creation. Changes are detected by the node's
// mzxid, so a burst of writes may be reported once, with the latest data.
// The watch re-arms itself after reconnects and after a new session.
// DataWatch returns after the first call of fn.
func (c *Client) DataWatch(ctx context.Context, p string, fn DataFunc) (*Watch, error) {
	if err := validatePath(p); err != nil {
		return nil, err
	}
	sp := fix(c.ns, p)
	var seen, existed bool
	var mzxid int64
	read := func(ctx context.Context, conn *zk.Conn) (<-chan zk.Event, func() bool, error) {
		data, st, ch, err := callTriple(ctx, c.core, func() ([]byte, *zk.Stat, <-chan zk.Event, error) { return conn.GetW(sp) })
		if isNoNode(err) {
			var ok bool
			ok, _, ch, err = callTriple(ctx, c.core, func() (bool, *zk.Stat, <-chan zk.Event, error) { return conn.ExistsW(sp) })
			if err == nil && ok {
				return nil, nil, errCreatedMeanwhile
			}
			data, st = nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		exists := st != nil
		if seen && exists == existed && (!exists || st.Mzxid == mzxid) {
			return ch, nil, nil
		}
		seen, existed = true, exists
		if exists {
			mzxid = st.Mzxid
		}
		return ch, func() bool { return fn(data, st) }, nil
	}
	return c.startWatch(ctx, read)
}

// errCreatedMeanwhile makes the loop read again at once.
var errCreatedMeanwhile = errors.New("node created between getData and exists")

// readFunc reads the watched state once and arms a watch. It returns the
// watch channel and, when the state changed, the delivery to make.
type readFunc func(ctx context.Context, conn *zk.Conn) (<-chan zk.Event, func() bool, error)

// startWatch runs the re-arming loop shared by DataWatch and ChildrenWatch and
// waits for the first delivery.
func (c *Client) startWatch(ctx context.Context, read readFunc) (*Watch, error) {
	cr := c.core
	w := &Watch{done: make(chan struct{})}
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
	if !cr.spawn(func() {
		defer close(w.done)
		defer remove()
		w.err = c.watchLoop(ctx, read, first, reconnected)
	}) {
		remove()
		return nil, ErrClosed
	}
	select {
	case <-first:
		return w, nil
	case <-w.done:
		if w.err == nil {
			return w, nil
		}
		return nil, w.err
	}
}

func (c *Client) watchLoop(ctx context.Context, read readFunc, first chan struct{}, reconnected <-chan struct{}) error {
	cr := c.core
	delay := 10 * time.Millisecond
	firstOpen := true
	for {
		if err := cr.waitConnected(ctx); err != nil {
			if errors.Is(err, ErrClosed) {
				return ErrClosed
			}
			return ctx.Err()
		}
		conn, _, err := cr.current()
		if err != nil {
			return err
		}
		if err := c.ensureNamespace(ctx, conn); err != nil && !IsRetryable(err) {
			return err
		}
		ch, deliver, err := read(ctx, conn)
		if errors.Is(err, errCreatedMeanwhile) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !IsRetryable(err) {
				return err
			}
			// The connection is going down; the states will catch up.
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-cr.done:
				t.Stop()
				return ErrClosed
			}
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 10 * time.Millisecond
		if deliver != nil && !deliver() {
			return nil
		}
		if firstOpen {
			close(first)
			firstOpen = false
		}
		select {
		case <-ch: // changed, or the watch ended with the session: read again
		case <-reconnected: // re-read, in case SetWatches did not restore it
		case <-ctx.Done():
			return ctx.Err()
		case <-cr.done:
			return ErrClosed
		}
	}
}
