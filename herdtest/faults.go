package herdtest

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

// The fault hooks below let a test prove that its code survives what
// production does to it: the network dropping a client's connection, a
// partition, a session expiring, the server going away (Stop, Restart).
// They work from outside the server: herdtest's listener sees every client
// connection and the ConnectResponse on it, so it knows which connections
// carry which session.

// conns tracks the client connections of a Server, or of one Cluster node,
// across restarts.
type conns struct {
	mu       sync.Mutex
	live     map[*trackedConn]struct{}
	seen     map[int64]struct{} // every session a ConnectResponse granted
	refusing bool               // close new connections at once (Node.CutClients)
}

func newConns() *conns {
	return &conns{live: map[*trackedConn]struct{}{}, seen: map[int64]struct{}{}}
}

// wrap returns l with every accepted connection tracked.
func (cs *conns) wrap(l net.Listener) net.Listener { return &trackedListener{Listener: l, cs: cs} }

type trackedListener struct {
	net.Listener
	cs *conns
}

// Accept implements net.Listener.
func (l *trackedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.cs.mu.Lock()
		if l.cs.refusing {
			l.cs.mu.Unlock()
			c.Close()
			continue
		}
		tc := &trackedConn{Conn: c, cs: l.cs}
		l.cs.live[tc] = struct{}{}
		l.cs.mu.Unlock()
		return tc, nil
	}
}

// refuse closes every connection and refuses new ones (on), or lets them in
// again (off).
func (cs *conns) refuse(on bool) {
	cs.mu.Lock()
	cs.refusing = on
	cs.mu.Unlock()
	if on {
		cut(cs.of(0))
	}
}

// trackedConn is the server's side of one client connection. It reads the
// session id and password from the first frame the server writes.
type trackedConn struct {
	net.Conn
	cs *conns

	mu      sync.Mutex // guards the fields below; the server writes from one goroutine
	head    []byte
	sniffed bool
	session int64
}

// Write implements net.Conn.
func (c *trackedConn) Write(p []byte) (int, error) {
	c.sniff(p)
	return c.Conn.Write(p)
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	c.cs.mu.Lock()
	delete(c.cs.live, c)
	c.cs.mu.Unlock()
	return c.Conn.Close()
}

// maxConnectResponse bounds the first frame taken for a ConnectResponse (36
// or 37 bytes with a 16-byte password); a four-letter word's text answer
// reads as a far larger length and is let through unparsed.
const maxConnectResponse = 256

// sniff records the session of a ConnectResponse among the first bytes the
// server writes. (Lock order: cs.mu is never taken under a connection's mu.)
func (c *trackedConn) sniff(p []byte) {
	if id, ok := c.handshake(p); ok {
		c.cs.mu.Lock()
		c.cs.seen[id] = struct{}{}
		c.cs.mu.Unlock()
	}
}

// handshake adds p to the first frame and, once it is complete, returns the
// session it grants (ok false for anything else: a refused session, a
// four-letter word's answer, or a frame still incomplete).
func (c *trackedConn) handshake(p []byte) (id int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sniffed {
		return 0, false
	}
	c.head = append(c.head, p...)
	if len(c.head) < 4 {
		return 0, false
	}
	n := int(binary.BigEndian.Uint32(c.head))
	if n < 20 || n > maxConnectResponse {
		c.sniffed, c.head = true, nil
		return 0, false
	}
	if len(c.head) < 4+n {
		return 0, false
	}
	var r proto.ConnectResponse
	d := proto.NewDecoder(c.head[4:4+n], n)
	r.Decode(d)
	c.sniffed, c.head = true, nil
	if d.Err() != nil || r.TimeOut <= 0 || r.SessionID == 0 {
		return 0, false
	}
	c.session = r.SessionID
	return r.SessionID, true
}

func (c *trackedConn) sessionID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// of returns the live connections, of one session (id != 0) or all.
func (cs *conns) of(id int64) []*trackedConn {
	cs.mu.Lock()
	all := make([]*trackedConn, 0, len(cs.live))
	for c := range cs.live {
		all = append(all, c)
	}
	cs.mu.Unlock()
	if id == 0 {
		return all
	}
	var out []*trackedConn
	for _, c := range all {
		if c.sessionID() == id {
			out = append(out, c)
		}
	}
	return out
}

// sessions adds to ids the sessions with a connection here, and returns them
// sorted and without duplicates.
func (cs *conns) sessions(ids []int64) []int64 {
	for _, c := range cs.of(0) {
		if id := c.sessionID(); id != 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// cutSession closes the connections of session id.
func (cs *conns) cutSession(id int64) int {
	if id == 0 {
		return 0
	}
	return cut(cs.of(id))
}

// known reports whether a client of these connections has had session id.
func (cs *conns) known(id int64) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	_, ok := cs.seen[id]
	return ok
}

// Sessions returns the ids of the sessions that have a client connected to
// the server now, in ascending order.
func (s *Server) Sessions() []int64 { return s.clients.sessions(nil) }

// CutConnections closes the server's end of every connection of the session
// with this id, as a network failure would: the client sees its connection
// drop (SUSPENDED in the framework) and reconnects to the same session, whose
// ephemeral nodes and watches survive if it comes back within its timeout.
// It returns how many connections it closed.
func (s *Server) CutConnections(sessionID int64) int { return s.clients.cutSession(sessionID) }

// CutAllConnections closes every client connection (and four-letter-word
// connections), as a network failure between the server and all its
// clients would. It returns how many connections it closed.
func (s *Server) CutAllConnections() int { return cut(s.clients.of(0)) }

func cut(cs []*trackedConn) int {
	for _, c := range cs {
		_ = c.Close()
	}
	return len(cs)
}

// ExpireSession ends the session with this id now, as the server does when
// the session's timeout passes: its ephemeral nodes are deleted, its watches
// fire for other clients, its connection is closed, and the client learns on
// reconnecting that the session expired (LOST in the framework). The
// client's connection is closed only once the session is gone, so it cannot
// re-attach the session in between. The session must have connected to
// this server since Start. Call it from the test's goroutine: a failure
// stops the test.
func (s *Server) ExpireSession(sessionID int64) {
	s.t.Helper()
	if err := s.expire(sessionID); err != nil {
		s.t.Fatalf("herdtest: expire session 0x%x: %v", sessionID, err)
	}
}

func (s *Server) expire(id int64) error {
	if !s.clients.known(id) {
		return errors.New("no client of this server has had that session")
	}
	if s.srv == nil {
		return errors.New("the server is stopped")
	}
	return expireAt(s.srv, id)
}

// expireAt closes session id through srv, as the leader does when the
// session's timeout passes.
func expireAt(srv *server.Server, id int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.ExpireSession(ctx, id)
}

// Proxy is a TCP proxy between one client (or several) and the server, for
// faults a server-side cut cannot make: a partition that leaves connections
// open, and refused reconnects. Connect the client to Proxy.Addr. It keeps
// forwarding to the server across Restart, and is closed when the test ends.
type Proxy struct {
	// Addr is the address to give the client instead of Server.Addr.
	Addr string
	p    *faultproxy.Proxy
}

// NewProxy starts a proxy in front of the server on 127.0.0.1:0.
func (s *Server) NewProxy() *Proxy {
	s.t.Helper()
	p, err := faultproxy.New(s.Addr)
	if err != nil {
		s.t.Fatalf("herdtest: proxy: %v", err)
	}
	s.t.Cleanup(func() { _ = p.Close() })
	return &Proxy{Addr: p.Addr(), p: p}
}

// Cut closes every connection through the proxy. The client reconnects
// through it at once, unless Refuse is on.
func (p *Proxy) Cut() { p.p.Cut() }

// Refuse makes the proxy close new connections as soon as it accepts them
// (on), or forward them again (off). With Cut, the server is unreachable.
func (p *Proxy) Refuse(on bool) { p.p.Refuse(on) }

// Blackhole holds every byte in both directions (on) or lets them flow
// again (off): a partition in which connections stay open and silent, so the
// client notices only by its read timeout, and the server expires the
// session if the partition outlasts it.
func (p *Proxy) Blackhole(on bool) { p.p.Blackhole(on) }

// Conns returns the number of connections the proxy forwards now.
func (p *Proxy) Conns() int { return p.p.Conns() }
