package server

import (
	"sync"
	"sync/atomic"
)

// The server-wide memory budget. Every connection accounts for the requests
// it has read but not answered (and their frames' bytes) and for its output
// not yet written to the socket. While the server as a whole is over
// MaxOutstandingRequests or MaxQueuedBytes, the connections holding more than
// a light share are paused: their reader reads nothing (TCP pushes back on the
// client) and their responder answers nothing, until the server is back under
// its limits or the connection has drained. Light connections — a client that
// reads its answers — go on being served at full speed meanwhile. Apart from
// the server-wide limits, a connection's responder also waits while its own
// output reaches MaxOutboundBytes.
//
// So the bytes held for clients stay below
//
//	MaxQueuedBytes + connections × (lightBytes + the largest response)
//
// plus, per connection, watch notifications up to notifyLimitFactor ×
// MaxOutboundBytes (they cannot wait: past that the connection is closed).
const (
	// lightBytes and lightRequests are what a connection may hold and still
	// be served while the server is over its budget.
	lightBytes    = 64 << 10
	lightRequests = 16
	// notifyLimitFactor × MaxOutboundBytes closes a connection whose queued
	// output a watch notification would take past it.
	notifyLimitFactor = 8
)

// budget is the server-wide account.
type budget struct {
	maxRequests, maxBytes int64
	perConnBytes          int64

	requests atomic.Int64 // read, not yet answered
	bytes    atomic.Int64 // request frames held plus output queued
	// relieved is signalled when a total falls back under its limit.
	relieved signal
	// paused counts connections waiting for the budget (tests, stats).
	paused atomic.Int64
}

func newBudget(cfg Config) *budget {
	return &budget{
		maxRequests:  int64(cfg.MaxOutstandingRequests),
		maxBytes:     int64(cfg.MaxQueuedBytes),
		perConnBytes: int64(cfg.MaxOutboundBytes),
	}
}

func (b *budget) overRequests() bool { return b.requests.Load() >= b.maxRequests }
func (b *budget) overBytes() bool    { return b.bytes.Load() >= b.maxBytes }

func (b *budget) addBytes(n int64) {
	if after := b.bytes.Add(n); n < 0 && after < b.maxBytes && after-n >= b.maxBytes {
		b.relieved.broadcast()
	}
}

// account is one connection's share of the budget.
type account struct {
	b        *budget
	requests atomic.Int64
	reqBytes atomic.Int64
	outBytes atomic.Int64
	// drained is signalled when the connection's holdings shrink.
	drained signal
}

func (b *budget) newAccount() *account { return &account{b: b} }

// light reports whether the connection holds little enough to be served
// while the server is over budget.
func (a *account) light() bool {
	return a.requests.Load() < lightRequests && a.reqBytes.Load()+a.outBytes.Load() < lightBytes
}

// read accounts for a request of n bytes read from the connection.
func (a *account) read(n int) {
	a.requests.Add(1)
	a.reqBytes.Add(int64(n))
	a.b.requests.Add(1)
	a.b.addBytes(int64(n))
}

// answered releases a request of n bytes.
func (a *account) answered(n int) {
	a.requests.Add(-1)
	a.reqBytes.Add(-int64(n))
	if after := a.b.requests.Add(-1); after == a.b.maxRequests-1 {
		a.b.relieved.broadcast()
	}
	a.b.addBytes(-int64(n))
	a.drained.broadcast()
}

// queued accounts for n bytes of output (negative: written or dropped).
func (a *account) queued(n int) {
	a.outBytes.Add(int64(n))
	a.b.addBytes(int64(n))
	if n < 0 {
		a.drained.broadcast()
	}
}

// waitRead blocks the reader while the server is over budget and this
// connection is not light. It returns false if closed fires first.
func (a *account) waitRead(closed <-chan struct{}) bool {
	return a.wait(closed, func() bool {
		return !(a.b.overRequests() || a.b.overBytes()) || a.light()
	})
}

// waitRespond blocks the responder while the connection's output is at its
// cap, or the server is over its byte budget and this connection's output
// is not light. Requests held do not count here: answering is what
// releases them. It returns false if closed fires first.
func (a *account) waitRespond(closed <-chan struct{}) bool {
	return a.wait(closed, func() bool {
		out := a.outBytes.Load()
		return out < a.b.perConnBytes && (out < lightBytes || !a.b.overBytes())
	})
}

func (a *account) wait(closed <-chan struct{}, ok func() bool) bool {
	if ok() {
		return true // the common case, without touching the signals' locks
	}
	paused := false
	defer func() {
		if paused {
			a.b.paused.Add(-1)
		}
	}()
	for {
		// Take the signals before testing, so a change after the test wakes us.
		r, d := a.b.relieved.wait(), a.drained.wait()
		if ok() {
			return true
		}
		if !paused {
			paused = true
			a.b.paused.Add(1)
		}
		select {
		case <-r:
		case <-d:
		case <-closed:
			return false
		}
	}
}

// signal wakes every goroutine waiting on it, once per broadcast.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) broadcast() {
	s.mu.Lock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.mu.Unlock()
}
