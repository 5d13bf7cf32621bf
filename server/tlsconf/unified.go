package tlsconf

import (
	"crypto/tls"
	"net"
	"sync"
)

// Unified wraps l so each connection is served as TLS when its first byte
// starts a TLS handshake (0x16) and as plain text otherwise: ZooKeeper's
// client.portUnification, which lets clients move to TLS one by one on the
// same port. The byte is read on the connection's first Read, in the
// goroutine serving it, so a slow client never holds up Accept.
func Unified(l net.Listener, cfg *tls.Config) net.Listener { return unifiedListener{l, cfg} }

type unifiedListener struct {
	net.Listener
	cfg *tls.Config
}

func (u unifiedListener) Accept() (net.Conn, error) {
	c, err := u.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, cfg: u.cfg}, nil
}

// tlsHandshakeRecord is the content type of a TLS handshake record.
const tlsHandshakeRecord = 0x16

// sniffConn decides on its first Read whether it is TLS.
type sniffConn struct {
	net.Conn
	cfg *tls.Config

	once sync.Once
	err  error // from the first read

	mu    sync.Mutex // inner is set by the reader and read by writers and Close
	inner net.Conn   // the TLS conn, or a plain one replaying the sniffed byte
}

func (s *sniffConn) current() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inner == nil {
		return s.Conn
	}
	return s.inner
}

func (s *sniffConn) decide() {
	var b [1]byte
	if _, err := s.Conn.Read(b[:]); err != nil {
		s.err = err
		return
	}
	var inner net.Conn = &prefixConn{Conn: s.Conn, prefix: b[:]}
	if b[0] == tlsHandshakeRecord {
		inner = tls.Server(inner, s.cfg)
	}
	s.mu.Lock()
	s.inner = inner
	s.mu.Unlock()
}

func (s *sniffConn) Read(p []byte) (int, error) {
	s.once.Do(s.decide)
	if s.err != nil {
		return 0, s.err
	}
	return s.current().Read(p)
}

// Write before the first Read (the server never does) goes out plain.
func (s *sniffConn) Write(p []byte) (int, error) { return s.current().Write(p) }

func (s *sniffConn) Close() error { return s.current().Close() }

// prefixConn returns prefix before reading from Conn.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
