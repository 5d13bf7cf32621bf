package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Both peer ports speak TCP and open with a short handshake, so that each
// side knows which member it talks to (Faults cuts by member) and a stray
// client on the wrong port is turned away at once:
//
//	dialer → acceptor: "HRD1", channel (1 Raft, 2 herd), dialer's id (uint32)
//	acceptor → dialer: "HRD1", acceptor's id (uint32), status (0 accepted)
//
// After it, the Raft port carries hashicorp/raft's NetworkTransport and the
// election port herd's own messages (peer.go).
const (
	channelRaft byte = 1
	channelHerd byte = 2

	handshakeTimeout = 5 * time.Second
)

var handshakeMagic = [4]byte{'H', 'R', 'D', '1'}

var errRefused = errors.New("cluster: peer refused the connection")

// dialPeer connects to a member's port and introduces this node.
func (n *Node) dialPeer(addr string, channel byte, timeout time.Duration) (net.Conn, int, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, 0, err
	}
	_ = c.SetDeadline(time.Now().Add(min(timeout, handshakeTimeout)))
	var hello [9]byte
	copy(hello[:4], handshakeMagic[:])
	hello[4] = channel
	binary.BigEndian.PutUint32(hello[5:], uint32(n.id))
	var reply [9]byte
	if _, err := c.Write(hello[:]); err != nil {
		c.Close()
		return nil, 0, err
	}
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("cluster: handshake with %s: %w", addr, err)
	}
	peer := int(binary.BigEndian.Uint32(reply[4:8]))
	if [4]byte(reply[:4]) != handshakeMagic || reply[8] != 0 {
		c.Close()
		return nil, 0, fmt.Errorf("%w: %s", errRefused, addr)
	}
	if n.cfg.Faults.Blocked(peer) {
		c.Close()
		return nil, 0, fmt.Errorf("%w: %s (cut)", errRefused, addr)
	}
	_ = c.SetDeadline(time.Time{})
	return n.cfg.Faults.track(c, peer), peer, nil
}

// acceptPeers accepts on l until it closes, runs the handshake for channel
// on each connection and hands the accepted ones to handle.
func (n *Node) acceptPeers(l net.Listener, channel byte, handle func(c net.Conn, peer int)) {
	defer n.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-n.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if !errors.Is(err, net.ErrClosed) {
				n.log.Warn("peer listener failed", zapErr(err))
			}
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			peer, ok := n.acceptHandshake(c, channel)
			if !ok {
				c.Close()
				return
			}
			handle(n.cfg.Faults.track(c, peer), peer)
		}()
	}
}

func (n *Node) acceptHandshake(c net.Conn, channel byte) (int, bool) {
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	var hello [9]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil {
		return 0, false
	}
	peer := int(binary.BigEndian.Uint32(hello[5:]))
	var reply [9]byte
	copy(reply[:4], handshakeMagic[:])
	binary.BigEndian.PutUint32(reply[4:8], uint32(n.id))
	ok := [4]byte(hello[:4]) == handshakeMagic && hello[4] == channel && !n.cfg.Faults.Blocked(peer)
	if !ok {
		reply[8] = 1
	}
	if _, err := c.Write(reply[:]); err != nil || !ok {
		return 0, false
	}
	_ = c.SetDeadline(time.Time{})
	return peer, true
}

// raftStream is the raft.StreamLayer on the peer port. It remembers every
// connection it hands out, so that closing it ends them all (raft's
// NetworkTransport leaves idle accepted connections open otherwise).
type raftStream struct {
	n        *Node
	l        net.Listener
	addr     raftAddr
	accepted chan net.Conn
	done     chan struct{}

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	once   sync.Once
}

// raftAddr is the listener's address as Raft knows this member: its
// server.N value (member.address), so Raft reports leaders the way the
// configuration names them.
type raftAddr string

func (a raftAddr) Network() string { return "tcp" }
func (a raftAddr) String() string  { return string(a) }

func newRaftStream(n *Node, l net.Listener, self Member) *raftStream {
	s := &raftStream{n: n, l: l, addr: raftAddr(self.address()), accepted: make(chan net.Conn),
		done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	n.wg.Add(1)
	go n.acceptPeers(l, channelRaft, func(c net.Conn, _ int) {
		if c = s.keep(c); c == nil {
			return
		}
		select {
		case s.accepted <- c:
		case <-s.done:
			c.Close()
		}
	})
	return s
}

// keep remembers c until it closes; it returns nil (having closed c) once
// the stream is closed.
func (s *raftStream) keep(c net.Conn) net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return nil
	}
	sc := &streamConn{Conn: c, s: s}
	s.conns[sc] = struct{}{}
	return sc
}

type streamConn struct {
	net.Conn
	s    *raftStream
	once sync.Once
}

func (c *streamConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// Accept implements net.Listener.
func (s *raftStream) Accept() (net.Conn, error) {
	select {
	case c := <-s.accepted:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; it also closes every connection handed out.
func (s *raftStream) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.l.Close()
		s.mu.Lock()
		s.closed = true
		conns := s.conns
		s.conns = nil
		s.mu.Unlock()
		for c := range conns {
			c.Close()
		}
	})
	return nil
}

// Addr implements net.Listener.
func (s *raftStream) Addr() net.Addr { return s.addr }

// Dial implements raft.StreamLayer; address is a member's server.N value.
func (s *raftStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	m, err := ParseMember(1, string(address))
	if err != nil {
		return nil, err
	}
	c, _, err := s.n.dialPeer(m.peerDialAddr(), channelRaft, timeout)
	if err != nil {
		return nil, err
	}
	if c = s.keep(c); c == nil {
		return nil, net.ErrClosed
	}
	return c, nil
}
