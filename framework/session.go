package framework

import (
	"context"
	"sync"
	"time"
)

// Session is one ZooKeeper session of a Client as the recipes see it, shaped
// like etcd's concurrency.Session: the ephemeral nodes a recipe creates belong
// to one session, and Done tells the recipe when they must be assumed gone.
//
// Done is closed on LOST (the server expired the session, or SUSPENDED lasted
// longer than the session timeout), when the client finds itself on a
// different session, and when the client closes. A Session never comes back:
// after Done, ask the Client for the next one.
type Session struct {
	id   int64
	done chan struct{}

	mu        sync.Mutex
	ended     bool
	suspended time.Time // start of the current SUSPENDED, zero when connected
	fences    map[*fence]struct{}
}

// fence is one holder's view: closed once its rights can no longer be trusted.
type fence struct {
	grace time.Duration
	ch    chan struct{}
	once  sync.Once
	timer *time.Timer // armed while SUSPENDED
}

func (f *fence) close() { f.once.Do(func() { close(f.ch) }) }

// arm starts the grace timer of a suspension that began at since; the caller
// holds the session's lock.
func (f *fence) arm(since time.Time) {
	if f.grace < 0 {
		return
	}
	left := time.Until(since.Add(f.grace))
	if left <= 0 {
		f.close()
		return
	}
	f.timer = time.AfterFunc(left, f.close)
}

func (f *fence) disarm() {
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
}

func newSession(id int64) *Session {
	return &Session{id: id, done: make(chan struct{}), fences: map[*fence]struct{}{}}
}

// ID is the server's id of the session.
func (s *Session) ID() int64 { return s.id }

// Done is closed once the session must be assumed gone.
func (s *Session) Done() <-chan struct{} { return s.done }

// Suspended reports whether the connection is currently SUSPENDED, and since
// when.
func (s *Session) Suspended() (since time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.suspended, !s.suspended.IsZero()
}

// Fence returns a channel that is closed when a holder of exclusive rights on
// this session (a lock, leadership) can no longer trust them: when Done
// closes, or when the connection has been SUSPENDED for longer than grace.
// Curator's standard error policy is grace 0 (act on SUSPENDED at once); a
// negative grace waits for LOST alone (Curator's session policy, which
// CURATOR-460 shows can give two holders during a partition).
//
// The channel stays open across a SUSPENDED shorter than grace followed by
// RECONNECTED to the same session. Call stop when the rights are given up;
// it releases the fence's timer and does not close the channel.
func (s *Session) Fence(grace time.Duration) (fenced <-chan struct{}, stop func()) {
	f := &fence{grace: grace, ch: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ended:
		f.close()
		return f.ch, func() {}
	case !s.suspended.IsZero():
		f.arm(s.suspended)
	}
	s.fences[f] = struct{}{}
	return f.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		f.disarm()
		delete(s.fences, f)
	}
}

// The state changes below run on the client's manager goroutine, before any
// listener hears of the state.

func (s *Session) suspend(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || !s.suspended.IsZero() {
		return
	}
	s.suspended = now
	for f := range s.fences {
		f.arm(now)
	}
}

func (s *Session) resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.suspended.IsZero() {
		return
	}
	s.suspended = time.Time{}
	for f := range s.fences {
		f.disarm()
	}
}

func (s *Session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	close(s.done)
	for f := range s.fences {
		f.disarm()
		f.close()
	}
	s.fences = nil
}

// Session waits until the client is connected (or ctx ends, or the client
// closes) and returns its current session.
func (c *Client) Session(ctx context.Context) (*Session, error) {
	cr := c.core
	for {
		if err := cr.waitConnected(ctx); err != nil {
			return nil, wrapOp("session", err)
		}
		cr.mu.Lock()
		s, wait := cr.sess, cr.stateWait
		cr.mu.Unlock()
		if s != nil {
			return s, nil
		}
		// Between sessions (LOST was just posted): wait for the next state.
		select {
		case <-wait:
		case <-cr.done:
			return nil, wrapOp("session", ErrClosed)
		case <-ctx.Done():
			return nil, wrapOp("session", ctx.Err())
		}
	}
}
