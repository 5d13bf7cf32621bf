package wireclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/herd-io/herd/server/proto"
	"go.uber.org/zap"
)

// SessionOptions configure NewSession.
type SessionOptions struct {
	// Options apply to every connection. A non-zero SessionID (with Passwd
	// and LastZxid) makes the first connection re-attach that session.
	Options
	// ConnectTimeout bounds the retries of the first connection; 0 means 10s.
	ConnectTimeout time.Duration
	// OnEvent receives, in order, the notifications that hit a watch this
	// session set (paths without the chroot) and the session's state changes
	// (Type proto.EventNone, State StateSyncConnected, StateDisconnected,
	// StateExpired or StateClosed). It runs on the session's delivery
	// goroutine and must not wait for the session's own calls. Nil discards.
	OnEvent func(Event)
}

// State is the connection state of a Session, named as the Java client's
// ZooKeeper.States (zkCli shows it in its prompt).
type State string

// States of a Session.
const (
	Connecting State = "CONNECTING"
	Connected  State = "CONNECTED"
	Closed     State = "CLOSED" // after Close or session expiry
)

// Session is one ZooKeeper session over the servers of a connect string that
// outlives its connections, as the Java client's does: when a connection ends
// it reports StateDisconnected, dials the next server with the session's id,
// password and lastZxidSeen, re-sends its auth packets and re-registers its
// watches (SetWatches, or SetWatches2 when persistent watches exist) before
// any new request can use the connection, and reports StateSyncConnected.
// A server that refuses the connection (it closes at the handshake, as one
// whose data is older than the client's lastZxidSeen does) is skipped. The
// session ends only on Close or when a server says it expired.
//
// Requests are not queued or retried: one made while reconnecting, or cut
// off by a connection loss, fails with an error wrapping ErrConnectionLoss;
// after expiry with ErrSessionExpired; after Close with ErrClosed; a server's
// error code (proto.ErrSessionMoved, proto.ErrNoNode, ...) is returned as is.
// Each call returns only after OnEvent has seen the notifications the server
// sent before its reply, so events print before the output they caused.
type Session struct {
	servers []string
	chroot  string
	opts    SessionOptions
	log     *zap.Logger
	stop    context.CancelFunc
	ctx     context.Context // ends when the session is closed
	done    chan struct{}   // closed when the delivery loop exits
	id      int64

	mu      sync.Mutex
	changed *sync.Cond // on mu: handled, conn or closed changed
	handled uint64     // notifications of conn the loop has dealt with
	conn    *Conn
	state   State
	closed  bool
	expired bool // a server refused to re-attach the session
	next    int  // index of the server to try next
	auths   []proto.AuthPacket
	watches *watchSet
}

// NewSession connects to one of the servers of connect
// ("host:port,host:port[/chroot]"), retrying them with backoff for up to
// ConnectTimeout, and returns the session once it is connected.
func NewSession(ctx context.Context, connect string, opts SessionOptions) (*Session, error) {
	hosts, chroot, _ := strings.Cut(connect, "/")
	if chroot != "" {
		chroot = "/" + strings.TrimSuffix(chroot, "/")
	}
	var servers []string
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			servers = append(servers, h)
		}
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("no server address in %q", connect)
	}
	opts.defaults()
	if opts.OnEvent == nil {
		opts.OnEvent = func(Event) {}
	}
	lctx, stop := context.WithCancel(context.Background())
	s := &Session{servers: servers, chroot: chroot, opts: opts, log: opts.Logger, stop: stop, ctx: lctx,
		done: make(chan struct{}), state: Connecting, watches: newWatchSet()}
	s.changed = sync.NewCond(&s.mu)
	conn, err := s.firstConnect(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	s.id, s.conn, s.state = conn.SessionID(), conn, Connected
	s.opts.OnEvent(Event{Type: proto.EventNone, State: StateSyncConnected, Zxid: -1})
	go s.loop(conn)
	return s, nil
}

// firstConnect retries the servers with backoff for up to ConnectTimeout, as
// zkCli keeps trying a server that is starting (it accepts connections and
// hangs up until it serves). The error is the last attempt's, not a timeout.
func (s *Session) firstConnect(ctx context.Context) (*Conn, error) {
	limit := s.opts.ConnectTimeout
	if limit <= 0 {
		limit = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	conn, err := backoff.RetryWithData(func() (*Conn, error) {
		conn, err := s.dialAny(cctx, s.opts.SessionID, s.opts.Passwd, s.opts.LastZxid)
		if errors.Is(err, ErrSessionExpired) {
			return nil, backoff.Permanent(err)
		}
		if err != nil && cctx.Err() == nil {
			last = err
		}
		return conn, err
	}, backoff.WithContext(newBackoff(), cctx))
	if err != nil && last != nil {
		return nil, last
	}
	return conn, err
}

// newBackoff paces reconnection attempts.
func newBackoff() backoff.BackOff {
	return backoff.NewExponentialBackOff(backoff.WithInitialInterval(100*time.Millisecond),
		backoff.WithMaxInterval(2*time.Second), backoff.WithMaxElapsedTime(0))
}

// dialAny tries each server once, starting after the last one used.
func (s *Session) dialAny(ctx context.Context, id int64, passwd []byte, lastZxid int64) (*Conn, error) {
	var errs []error
	for range s.servers {
		s.mu.Lock()
		addr := s.servers[s.next%len(s.servers)]
		s.next++
		s.mu.Unlock()
		o := s.opts.Options
		o.SessionID, o.Passwd, o.LastZxid = id, passwd, lastZxid
		conn, err := Dial(ctx, addr, o)
		if err == nil {
			return conn, nil
		}
		if errors.Is(err, ErrSessionExpired) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// loop delivers events from each connection in turn and reconnects when one
// ends, until the session is closed or expires.
func (s *Session) loop(conn *Conn) {
	defer close(s.done)
	for {
		for ev := range conn.Events() {
			if ev.Type == proto.EventNone {
				continue // end of connection; the channel closes next
			}
			ev.Path = s.clientPath(ev.Path)
			s.mu.Lock()
			hit := s.watches.deliver(ev)
			s.mu.Unlock()
			if hit {
				s.opts.OnEvent(ev)
			}
			s.mu.Lock()
			s.handled++
			s.changed.Broadcast()
			s.mu.Unlock()
		}
		pw, last := conn.Passwd(), conn.LastZxid()
		conn.Drop()
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.conn, s.state, s.handled = nil, Connecting, 0
		s.changed.Broadcast()
		s.mu.Unlock()
		s.log.Info("connection lost, reconnecting", zap.Int64("session", s.id), zap.Error(conn.Err()))
		s.opts.OnEvent(Event{Type: proto.EventNone, State: StateDisconnected, Zxid: -1})
		next, err := s.reconnect(pw, last)
		if err != nil {
			s.mu.Lock()
			s.state = Closed
			s.expired = errors.Is(err, ErrSessionExpired)
			s.changed.Broadcast()
			s.mu.Unlock()
			if errors.Is(err, ErrSessionExpired) {
				s.log.Info("session expired", zap.Int64("session", s.id))
				s.opts.OnEvent(Event{Type: proto.EventNone, State: StateExpired, Zxid: -1})
			}
			return
		}
		conn = next
	}
}

// reconnect re-attaches the session with backoff, then restores auth and
// watches before any new request can use the connection.
func (s *Session) reconnect(pw []byte, last int64) (*Conn, error) {
	return backoff.RetryWithData(func() (*Conn, error) {
		conn, err := s.dialAny(s.ctx, s.id, pw, last)
		if err != nil {
			if errors.Is(err, ErrSessionExpired) {
				return nil, backoff.Permanent(err)
			}
			return nil, err
		}
		if err := s.restore(conn, last); err != nil {
			conn.Drop()
			return nil, err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Drop()
			return nil, backoff.Permanent(context.Canceled)
		}
		s.conn, s.state, s.handled = conn, Connected, 0
		s.changed.Broadcast()
		s.mu.Unlock()
		s.opts.OnEvent(Event{Type: proto.EventNone, State: StateSyncConnected, Zxid: -1})
		return conn, nil
	}, backoff.WithContext(newBackoff(), s.ctx))
}

// restore re-sends auth packets and SetWatches on a fresh connection.
func (s *Session) restore(conn *Conn, last int64) error {
	s.mu.Lock()
	auths := append([]proto.AuthPacket(nil), s.auths...)
	op, sw, needed := s.watches.setWatches(last, s.chroot)
	s.mu.Unlock()
	for i := range auths {
		if _, err := conn.Do(s.ctx, proto.OpAuth, &auths[i], nil); err != nil {
			return fmt.Errorf("wireclient: re-send auth %s: %w", auths[i].Scheme, err)
		}
	}
	if needed {
		if _, err := conn.Do(s.ctx, op, sw, nil); err != nil {
			return fmt.Errorf("wireclient: re-send watches: %w", err)
		}
	}
	return nil
}

// do runs one request on the current connection.
func (s *Session) do(ctx context.Context, op proto.OpCode, req, resp proto.Record) error {
	s.mu.Lock()
	conn, closed, expired := s.conn, s.closed, s.expired
	s.mu.Unlock()
	switch {
	case expired:
		return ErrSessionExpired
	case closed:
		return ErrClosed
	case conn == nil:
		return fmt.Errorf("wireclient: %s while reconnecting: %w", op, ErrConnectionLoss)
	}
	_, err := conn.Do(ctx, op, req, resp)
	s.awaitEvents(conn, conn.Notifications())
	return err
}

// awaitEvents waits until the loop has delivered the first n notifications
// of conn. The loop never blocks on the caller, so the wait is short; it ends
// early if conn is replaced or the session closed.
func (s *Session) awaitEvents(conn *Conn, n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.conn == conn && !s.closed && s.handled < n {
		s.changed.Wait()
	}
}

// SessionID is the session's id; it stays the same across reconnects.
func (s *Session) SessionID() int64 { return s.id }

// State is the current connection state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Close ends the session with closeSession (when connected), stops
// reconnecting and reports StateClosed. Closing again does nothing.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conn := s.conn
	s.state = Closed
	s.changed.Broadcast()
	s.mu.Unlock()
	s.stop()
	var err error
	if conn != nil {
		err = conn.Close(ctx)
	}
	<-s.done
	s.opts.OnEvent(Event{Type: proto.EventNone, State: StateClosed, Zxid: -1})
	return err
}

// serverPath puts a caller's path under chroot.
func serverPath(chroot, path string) string {
	if chroot == "" {
		return path
	}
	if path == "/" {
		return chroot
	}
	return chroot + path
}

// clientPath removes the chroot from a server's path, as the Java client does.
func (s *Session) clientPath(path string) string {
	if s.chroot == "" || !strings.HasPrefix(path, s.chroot) {
		return path
	}
	if path = path[len(s.chroot):]; path == "" {
		return "/"
	}
	return path
}
