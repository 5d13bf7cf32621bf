// Package session tracks session liveness on the node that decides expiry (the
// leader). Sessions themselves are replicated state (created and closed by log
// entries, see server/fsm); the Tracker only keeps deadlines, which are local and
// refreshed by pings and requests.
//
// Deadlines are rounded up to the next tick boundary as ZooKeeper's ExpiryQueue
// does, so that expiry is checked once per tick rather than per session.
package session

import (
	"sort"
	"sync"
	"time"
)

// Tracker holds a deadline per live session. It is safe for concurrent use.
type Tracker struct {
	tick time.Duration

	mu       sync.Mutex
	sessions map[int64]*entry
}

type entry struct {
	timeout  time.Duration
	deadline time.Time
	closing  bool
}

// NewTracker returns a Tracker that rounds deadlines to multiples of tick.
func NewTracker(tick time.Duration) *Tracker {
	if tick <= 0 {
		tick = 2 * time.Second
	}
	return &Tracker{tick: tick, sessions: make(map[int64]*entry)}
}

func (t *Tracker) roundUp(at time.Time) time.Time {
	n := at.UnixNano() / int64(t.tick)
	return time.Unix(0, (n+1)*int64(t.tick))
}

// Add starts tracking id with the given timeout, its deadline now+timeout. Adding
// a tracked session refreshes it with the new timeout (a re-attach).
func (t *Tracker) Add(id int64, timeout time.Duration, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessions[id] = &entry{timeout: timeout, deadline: t.roundUp(now.Add(timeout))}
}

// Touch pushes id's deadline to now+timeout. It reports false if the session is
// unknown or already closing, in which case the caller must treat it as expired.
func (t *Tracker) Touch(id int64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.sessions[id]
	if !ok || e.closing {
		return false
	}
	if d := t.roundUp(now.Add(e.timeout)); d.After(e.deadline) {
		e.deadline = d
	}
	return true
}

// Alive reports whether id is tracked and not closing.
func (t *Tracker) Alive(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.sessions[id]
	return ok && !e.closing
}

// Remove stops tracking id (its close was applied).
func (t *Tracker) Remove(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.sessions, id)
}

// SetClosing marks id as being closed so that no request or re-attach can revive
// it while its close entry is in flight.
func (t *Tracker) SetClosing(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.sessions[id]; ok {
		e.closing = true
	}
}

// Expired marks every session whose deadline is not after now as closing and
// returns their ids in ascending order. A session is returned once.
func (t *Tracker) Expired(now time.Time) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int64
	for id, e := range t.sessions {
		if !e.closing && !e.deadline.After(now) {
			e.closing = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Reset replaces the tracked set with sessions, each given a fresh deadline of
// now+timeout: a node that has just become the decider must not expire healthy
// clients for time it did not observe.
func (t *Tracker) Reset(sessions map[int64]time.Duration, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessions = make(map[int64]*entry, len(sessions))
	for id, to := range sessions {
		t.sessions[id] = &entry{timeout: to, deadline: t.roundUp(now.Add(to))}
	}
}

// Deadline returns id's current deadline (a tick boundary), if id is tracked.
func (t *Tracker) Deadline(id int64) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.sessions[id]
	if !ok {
		return time.Time{}, false
	}
	return e.deadline, true
}

// Len returns the number of tracked sessions.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sessions)
}
