package proto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// recProxy is a loopback TCP proxy in front of a ZooKeeper server that records
// every client-to-server frame, so real clients' packets can be captured as
// fuzz seeds.
type recProxy struct {
	ln     net.Listener
	target string
	// cutAfter, if set, closes a connection right after a request with this
	// opcode is forwarded, to make clients reconnect and send setWatches.
	cutAfter OpCode

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
	recs  []*frameRecorder
	cut   int
}

func startProxy(t *testing.T, target string, cutAfter OpCode) *recProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recProxy{ln: ln, target: target, cutAfter: cutAfter}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

func (p *recProxy) addr() string { return p.ln.Addr().String() }

func (p *recProxy) acceptLoop() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		rec := &frameRecorder{}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.recs = append(p.recs, rec)
		p.mu.Unlock()
		rec.onFrame = func(op OpCode) {
			if p.cutAfter == 0 || op != p.cutAfter {
				return
			}
			p.mu.Lock()
			first := p.cut == 0
			p.cut++
			p.mu.Unlock()
			if first {
				client.Close()
				server.Close()
			}
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(&forwardRecorder{dst: server, rec: rec}, client)
			server.Close()
		}()
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(client, server)
			client.Close()
		}()
	}
}

// close stops the proxy and waits for every goroutine.
func (p *recProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// frames returns every complete client frame recorded so far, per
// connection; the first frame of each is its ConnectRequest.
func (p *recProxy) frames() [][][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][][]byte, len(p.recs))
	for i, r := range p.recs {
		out[i] = r.snapshot()
	}
	return out
}

// streams returns each connection's raw client byte stream.
func (p *recProxy) streams() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][]byte, len(p.recs))
	for i, r := range p.recs {
		r.mu.Lock()
		out[i] = bytes.Clone(r.raw)
		r.mu.Unlock()
	}
	return out
}

// sawOp reports whether any connection has sent a request with opcode op.
func (p *recProxy) sawOp(op OpCode) bool {
	for _, conn := range p.frames() {
		for i, f := range conn {
			if i > 0 && len(f) >= 8 && OpCode(binary.BigEndian.Uint32(f[4:])) == op {
				return true
			}
		}
	}
	return false
}

// forwardRecorder writes to dst after recording, so the frame callback runs
// once the frame has been forwarded.
type forwardRecorder struct {
	dst io.Writer
	rec *frameRecorder
}

func (w *forwardRecorder) Write(b []byte) (int, error) {
	n, err := w.dst.Write(b)
	w.rec.write(b[:n])
	return n, err
}

// frameRecorder splits a client byte stream into frames as it arrives.
type frameRecorder struct {
	mu      sync.Mutex
	raw     []byte
	off     int
	frames  [][]byte
	onFrame func(op OpCode)
}

func (r *frameRecorder) write(b []byte) {
	r.mu.Lock()
	r.raw = append(r.raw, b...)
	var ops []OpCode
	for {
		rest := r.raw[r.off:]
		if len(rest) < 4 {
			break
		}
		if _, ok := IsFourLetterWord([4]byte(rest)); ok && r.off == 0 {
			r.off = len(r.raw) // a 4lw connection carries no frames
			break
		}
		p, err := ReadFrame(bytes.NewReader(rest), nil, 1<<30)
		if errors.Is(err, io.ErrUnexpectedEOF) || err != nil {
			break
		}
		r.frames = append(r.frames, bytes.Clone(p))
		r.off += 4 + len(p)
		if len(r.frames) > 1 && len(p) >= 8 {
			ops = append(ops, OpCode(binary.BigEndian.Uint32(p[4:])))
		}
	}
	cb := r.onFrame
	r.mu.Unlock()
	for _, op := range ops {
		if cb != nil {
			cb(op)
		}
	}
}

func (r *frameRecorder) snapshot() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...)
}
