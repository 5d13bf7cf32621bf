package framework

import (
	"context"
	"sync"
)

// listener delivers states to one callback, in order, on its own goroutine,
// so a slow listener delays neither the connection nor other listeners.
type listener struct {
	fn     func(ConnectionState)
	mu     sync.Mutex
	queue  []ConnectionState
	wake   chan struct{}
	stop   chan struct{}
	stopMu sync.Once
}

func (l *listener) push(s ConnectionState) {
	l.mu.Lock()
	l.queue = append(l.queue, s)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *listener) run(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-l.stop:
			return
		case <-l.wake:
		}
		for {
			l.mu.Lock()
			if len(l.queue) == 0 {
				l.mu.Unlock()
				break
			}
			s := l.queue[0]
			l.queue = l.queue[1:]
			l.mu.Unlock()
			select { // no callback after Close or remove
			case <-done:
				return
			case <-l.stop:
				return
			default:
			}
			l.fn(s)
		}
	}
}

// AddListener registers fn to receive every connection-state change from now
// on, in order, on a goroutine of its own. fn may block without delaying the
// connection or Close, but later states queue up behind it. The returned
// function removes the listener; it does not wait for a running fn to
// return. After Close, fn is not called again.
//
// Curator's rules apply: CONNECTED is delivered once, on the first session;
// SUSPENDED when the connection drops; RECONNECTED when it comes back (also
// after LOST, with a new session); LOST when the server expired the session
// or SUSPENDED lasted longer than the session timeout. Repeats are dropped.
func (c *Client) AddListener(fn func(ConnectionState)) (remove func()) {
	cr := c.core
	l := &listener{fn: fn, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	remove = func() {
		l.stopMu.Do(func() {
			close(l.stop)
			cr.lmu.Lock()
			delete(cr.listeners, l)
			cr.lmu.Unlock()
		})
	}
	cr.lmu.Lock()
	if !cr.goUser(func() { l.run(cr.done) }) {
		cr.lmu.Unlock()
		return func() {}
	}
	cr.listeners[l] = struct{}{}
	cr.lmu.Unlock()
	return remove
}

// StateChanges returns a channel carrying every connection-state change until
// ctx ends or the client closes; then the channel is closed. States are
// buffered without limit, so a slow reader never blocks the client.
func (c *Client) StateChanges(ctx context.Context) <-chan ConnectionState {
	out := make(chan ConnectionState)
	in := make(chan ConnectionState, 1)
	var mu sync.Mutex
	var pending []ConnectionState
	remove := c.AddListener(func(s ConnectionState) {
		mu.Lock()
		pending = append(pending, s)
		mu.Unlock()
		select {
		case in <- s:
		default:
		}
	})
	cr := c.core
	if !cr.spawn(func() {
		defer close(out)
		defer remove()
		for {
			mu.Lock()
			var next ConnectionState
			have := len(pending) > 0
			if have {
				next = pending[0]
			}
			mu.Unlock()
			if !have {
				select {
				case <-in:
					continue
				case <-ctx.Done():
					return
				case <-cr.done:
					return
				}
			}
			select {
			case out <- next:
				mu.Lock()
				pending = pending[1:]
				mu.Unlock()
			case <-ctx.Done():
				return
			case <-cr.done:
				return
			}
		}
	}) {
		close(out)
	}
	return out
}
