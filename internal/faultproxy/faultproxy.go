// Package faultproxy is a TCP proxy for tests that puts network faults between
// a client and a server without touching the server: cut every connection,
// refuse new ones, or blackhole traffic (bytes are held, not lost, as TCP
// would retransmit them, and flow again when the blackhole is lifted, unless
// the connection is cut first). It listens on 127.0.0.1:0.
package faultproxy

import (
	"net"
	"sync"
)

// Proxy forwards connections from Addr to a target address.
type Proxy struct {
	target string
	ln     net.Listener

	mu       sync.Mutex
	cond     *sync.Cond // signalled when blackhole flags change or conns close
	refuse   bool
	holdUp   bool // client→server bytes held
	holdDown bool // server→client bytes held
	conns    map[*pair]struct{}
	accepted int
	closed   bool
	wg       sync.WaitGroup
}

type pair struct {
	client, server net.Conn
	dead           bool
}

// New starts a proxy on 127.0.0.1:0 in front of target (host:port).
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, ln: ln, conns: map[*pair]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the address clients should dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted returns how many connections the proxy has accepted so far,
// including refused ones.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Conns returns the number of connections currently forwarded.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Cut closes every current connection (both sides) and drops held bytes.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		p.killLocked(c)
	}
}

// Refuse makes the proxy close new connections as soon as they are accepted
// (on) or forward them again (off). Current connections are not affected.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// Blackhole holds all bytes in both directions (on) or lets them flow (off),
// like a network partition that leaves connections open.
func (p *Proxy) Blackhole(on bool) { p.hold(on, on) }

// HoldReplies holds only server→client bytes: requests still reach the server
// but their replies do not come back (off releases them). Together with Cut
// it makes a write that succeeded on the server look failed to the client.
func (p *Proxy) HoldReplies(on bool) { p.hold(p.heldUp(), on) }

func (p *Proxy) heldUp() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holdUp
}

func (p *Proxy) hold(up, down bool) {
	p.mu.Lock()
	p.holdUp, p.holdDown = up, down
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Close stops accepting, cuts every connection and waits for the proxy's
// goroutines to exit.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		refuse := p.refuse || p.closed
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pr := &pair{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			s.Close()
			continue
		}
		p.conns[pr] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pr, c, s, true)
		go p.pipe(pr, s, c, false)
	}
}

// pipe copies src to dst, holding each chunk while its direction is
// blackholed, until either side fails or the pair is cut.
func (p *Proxy) pipe(pr *pair, src, dst net.Conn, up bool) {
	defer p.wg.Done()
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for !pr.dead && ((up && p.holdUp) || (!up && p.holdDown)) {
				p.cond.Wait()
			}
			dead := pr.dead
			p.mu.Unlock()
			if dead {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			p.mu.Lock()
			p.killLocked(pr)
			p.mu.Unlock()
			return
		}
	}
}

// killLocked closes both sides of pr and wakes its held pipes.
func (p *Proxy) killLocked(pr *pair) {
	if pr.dead {
		return
	}
	pr.dead = true
	pr.client.Close()
	pr.server.Close()
	delete(p.conns, pr)
	p.cond.Broadcast()
}
