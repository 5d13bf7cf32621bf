package framework

import (
	"context"
	"sync"
)

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
	// Under lmu, as post fans out under it: a listener added concurrently
	// with a state change either hears of it or is added after it.
	cr.lmu.Lock()
	defer cr.lmu.Unlock()
	return cr.listeners.Add(fn)
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
