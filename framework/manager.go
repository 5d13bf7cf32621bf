package framework

import (
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"
)

// rawEvent is a go-zookeeper session event tagged with the handle generation
// it came from, or an internal notice (authDone).
type rawEvent struct {
	gen      uint64
	state    zk.State
	authDone bool
}

// pushEvent queues ev for the manager. It never blocks: it runs on
// go-zookeeper's connection goroutines.
func (cr *core) pushEvent(ev rawEvent) {
	cr.evMu.Lock()
	cr.events = append(cr.events, ev)
	cr.evMu.Unlock()
	select {
	case cr.evWake <- struct{}{}:
	default:
	}
}

func (cr *core) takeEvents() []rawEvent {
	cr.evMu.Lock()
	defer cr.evMu.Unlock()
	evs := cr.events
	cr.events = nil
	return evs
}

// manage is the state machine: one goroutine turns go-zookeeper's session
// events and the SUSPENDED timer into Curator's connection states.
func (cr *core) manage() {
	m := &machine{cr: cr, timer: time.NewTimer(time.Hour)}
	m.timer.Stop()
	defer m.timer.Stop()
	for {
		select {
		case <-cr.done:
			return
		case <-cr.evWake:
			for _, ev := range cr.takeEvents() {
				m.handle(ev)
			}
		case <-m.timer.C:
			m.suspendedTooLong()
		}
	}
}

type machine struct {
	cr        *core
	timer     *time.Timer
	lastSID   int64 // session of the last CONNECTED/RECONNECTED, 0 after LOST
	suspended bool
}

func (m *machine) handle(ev rawEvent) {
	cr := m.cr
	conn, gen, err := cr.current()
	if err != nil || ev.gen != gen {
		return // closed, or an event of a replaced handle
	}
	switch {
	case ev.authDone:
		m.sessionReady(conn.SessionID())
	case ev.state == zk.StateHasSession:
		if len(cr.opts.auth) > 0 && !cr.isAuthed(gen) {
			// Report the session only once our credentials are on it, so no
			// operation runs unauthenticated.
			cr.spawn(func() { cr.authenticate(conn, gen) })
			return
		}
		m.sessionReady(conn.SessionID())
	case ev.state == zk.StateDisconnected:
		if cr.currentState().IsConnected() {
			m.post(Suspended)
			m.suspended = true
			m.timer.Reset(cr.sessionTimeout())
		}
	case ev.state == zk.StateExpired:
		m.stopTimer()
		m.lastSID = 0
		m.post(Lost)
	case ev.state == zk.StateAuthFailed:
		cr.log.Warn("authentication failed")
	}
}

// sessionReady handles a usable session: CONNECTED the first time, otherwise
// RECONNECTED, preceded by LOST if the session changed behind our back.
func (m *machine) sessionReady(sid int64) {
	m.stopTimer()
	if m.lastSID != 0 && sid != m.lastSID && m.cr.currentState() != Lost {
		m.post(Lost)
	}
	m.lastSID = sid
	m.cr.mu.Lock()
	if cur := m.cr.sess; cur == nil || cur.id != sid {
		if cur != nil {
			cur.end()
		}
		m.cr.sess = newSession(sid)
	} else {
		cur.resume()
	}
	m.cr.mu.Unlock()
	m.post(Connected)
}

// suspendedTooLong is Curator 5's client-side expiry: the session timeout
// elapsed while SUSPENDED, so the session must be assumed gone. The handle is
// replaced so that the next connection is a fresh session, as Curator's
// injected expiration does; otherwise a surviving old session could keep
// ephemeral nodes that the application already gave up.
func (m *machine) suspendedTooLong() {
	cr := m.cr
	if !m.suspended || cr.currentState() != Suspended {
		return
	}
	m.suspended = false
	m.lastSID = 0
	m.post(Lost)
	cr.mu.Lock()
	if cr.closed {
		cr.mu.Unlock()
		return
	}
	old, oldGen := cr.conn, cr.gen
	err := cr.connectLocked()
	cr.mu.Unlock()
	if err != nil {
		cr.log.Error("replace connection after LOST", zap.Error(err))
		return
	}
	cr.log.Info("session assumed lost after the session timeout; new session started",
		zap.Int64("old_session", old.SessionID()))
	cr.spawn(func() { cr.closeHandle(old, oldGen) })
}

func (m *machine) stopTimer() {
	m.suspended = false
	m.timer.Stop()
}

// post applies Curator's posting rules and fans the state out to listeners.
func (m *machine) post(s ConnectionState) {
	cr := m.cr
	// Holding lmu across the change means a listener added concurrently sees
	// either the old state and this change, or neither.
	cr.lmu.Lock()
	defer cr.lmu.Unlock()
	cr.mu.Lock()
	if s == Connected && cr.everConnected {
		s = Reconnected
	}
	if s == cr.state {
		cr.mu.Unlock()
		return
	}
	if s.IsConnected() {
		cr.everConnected = true
	}
	// The session handle changes before any listener hears of the state, so a
	// recipe woken by a listener already sees Done closed on LOST.
	switch s {
	case Lost:
		if cr.sess != nil {
			cr.sess.end()
			cr.sess = nil
		}
	case Suspended:
		if cr.sess != nil {
			cr.sess.suspend(time.Now())
		}
	}
	cr.state = s
	close(cr.stateWait)
	cr.stateWait = make(chan struct{})
	cr.mu.Unlock()
	cr.log.Info("connection state", zap.Stringer("state", s))
	cr.listeners.Push(s)
}

func (cr *core) currentState() ConnectionState {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.state
}

func (cr *core) isAuthed(gen uint64) bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.authed[gen]
}

// authenticate adds the configured credentials to a new handle. go-zookeeper
// re-sends them itself on later reconnects of the same handle.
func (cr *core) authenticate(conn *zk.Conn, gen uint64) {
	for _, a := range cr.opts.auth {
		if err := conn.AddAuth(a.scheme, a.auth); err != nil {
			// The next StateHasSession of this handle tries again.
			cr.log.Warn("add auth", zap.String("scheme", a.scheme), zap.Error(err))
			return
		}
	}
	cr.mu.Lock()
	cr.authed[gen] = true
	cr.mu.Unlock()
	cr.pushEvent(rawEvent{gen: gen, authDone: true})
}
