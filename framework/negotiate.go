package framework

import (
	"encoding/binary"
	"net"
	"time"

	"github.com/go-zookeeper/zk"
)

// go-zookeeper does not export the session timeout the server negotiated,
// yet Curator times LOST from it (the server clamps the requested timeout to
// [2, 20] ticks). sniffConn reads it from the ConnectResponse as it passes:
// the first frame from the server is length, protocolVersion, timeOut (ms).
type sniffConn struct {
	net.Conn
	cr   *core
	gen  uint64
	head []byte
	done bool
}

// Read passes data through and records the negotiated timeout once.
func (s *sniffConn) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if !s.done && n > 0 {
		need := 12 - len(s.head)
		s.head = append(s.head, p[:min(n, need)]...)
		if len(s.head) >= 12 {
			s.done = true
			if ms := int32(binary.BigEndian.Uint32(s.head[8:12])); ms > 0 {
				s.cr.negotiated.Store(int64(ms))
			}
		}
	}
	return n, err
}

// Close closes the connection and forgets it.
func (s *sniffConn) Close() error {
	s.cr.netMu.Lock()
	delete(s.cr.netConns, s)
	s.cr.netMu.Unlock()
	return s.Conn.Close()
}

// dialer wraps the configured dialer for handle generation gen: it sniffs the
// negotiated timeout and tracks the connection so that closeNetConns can cut
// it (go-zookeeper's Close does not interrupt a handshake, which waits up to
// ten receive timeouts for a silent server).
func (cr *core) dialer(gen uint64) func(network, addr string, timeout time.Duration) (net.Conn, error) {
	base := cr.opts.dialer
	if base == nil {
		base = net.DialTimeout
	}
	return func(network, addr string, timeout time.Duration) (net.Conn, error) {
		if cr.genClosed(gen) {
			return nil, zk.ErrClosing
		}
		c, err := base(network, addr, timeout)
		if err != nil {
			return nil, err
		}
		sc := &sniffConn{Conn: c, cr: cr, gen: gen}
		cr.netMu.Lock()
		if cr.closedGens[gen] {
			cr.netMu.Unlock()
			c.Close()
			return nil, zk.ErrClosing
		}
		cr.netConns[sc] = struct{}{}
		cr.netMu.Unlock()
		return sc, nil
	}
}

func (cr *core) genClosed(gen uint64) bool {
	cr.netMu.Lock()
	defer cr.netMu.Unlock()
	return cr.closedGens[gen]
}

// closeNetConns closes the network connections of handle generation gen and
// stops it from dialing again.
func (cr *core) closeNetConns(gen uint64) {
	cr.netMu.Lock()
	cr.closedGens[gen] = true
	var conns []*sniffConn
	for c := range cr.netConns {
		if c.gen == gen {
			conns = append(conns, c)
		}
	}
	cr.netMu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// closeHandle ends a go-zookeeper handle: Close sends closeSession when
// connected (and waits at most about a second), then any connection still in
// a handshake is cut so the handle's goroutines exit promptly.
func (cr *core) closeHandle(conn *zk.Conn, gen uint64) {
	conn.Close()
	cr.closeNetConns(gen)
}

// sessionTimeout is the last negotiated session timeout, or the requested one
// before any session.
func (cr *core) sessionTimeout() time.Duration {
	if ms := cr.negotiated.Load(); ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return cr.opts.sessionTimeout
}

// SessionTimeout returns the session timeout the server granted (it may differ
// from the requested one), or the requested one before the first session. It
// is how long SUSPENDED may last before the client declares LOST.
func (c *Client) SessionTimeout() time.Duration { return c.core.sessionTimeout() }
