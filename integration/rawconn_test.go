package integration

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/herd-io/herd/server/proto"
)

// errConnClosed reports that the server closed the connection before replying.
var errConnClosed = errors.New("raw: connection closed by server")

// errExpired reports a ConnectResponse with timeout 0 and session 0.
var errExpired = errors.New("raw: session expired")

// frame is one server packet after the connect handshake.
type frame struct {
	xid  int32
	zxid int64
	err  int32
	body []byte
}

// rawClient speaks the client protocol with no client-side logic: it sends the
// bytes a step asks for and reports every reply and notification verbatim, so a
// difference between servers cannot be hidden by a client library.
type rawClient struct {
	conn      net.Conn
	sessionID int64
	passwd    []byte
	timeout   int32
	lastZxid  int64 // highest positive reply zxid, as real clients track it
	xid       int32

	replies chan frame
	done    chan struct{} // closed when the reader stops
	quit    chan struct{} // closed by drop so a blocked reader gives up
	mu      sync.Mutex
	events  []frame
	readErr error
}

// dialRaw connects and performs the handshake; session 0 asks for a new session.
func dialRaw(ctx context.Context, addr string, session int64, passwd []byte, lastZxid int64) (*rawClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("raw: dial %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	var e enc
	e.i32(0)
	e.i64(lastZxid)
	e.i32(30000)
	e.i64(session)
	e.buf(passwd)
	e.boolean(false)
	if err := writeFrame(conn, e.b); err != nil {
		conn.Close()
		return nil, err
	}
	body, err := readFrame(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("raw: connect response: %w", err)
	}
	d2 := dec{b: body}
	d2.i32()
	timeout := d2.i32()
	sid := d2.i64()
	pw := d2.buf()
	if d2.err != nil {
		conn.Close()
		return nil, fmt.Errorf("raw: connect response: %w", d2.err)
	}
	if timeout <= 0 || sid == 0 {
		conn.Close()
		return nil, errExpired
	}
	_ = conn.SetDeadline(time.Time{})
	c := &rawClient{conn: conn, sessionID: sid, passwd: pw, timeout: timeout, lastZxid: lastZxid,
		replies: make(chan frame, 256), done: make(chan struct{}), quit: make(chan struct{})}
	go c.readLoop()
	return c, nil
}

func (c *rawClient) readLoop() {
	defer close(c.done)
	for {
		body, err := readFrame(c.conn)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		d := dec{b: body}
		f := frame{xid: d.i32(), zxid: d.i64(), err: d.i32()}
		if d.err != nil {
			c.mu.Lock()
			c.readErr = d.err
			c.mu.Unlock()
			return
		}
		f.body = d.b
		if f.xid == proto.XidNotification {
			c.mu.Lock()
			c.events = append(c.events, f)
			c.mu.Unlock()
			continue
		}
		select {
		case c.replies <- f:
		case <-c.quit:
			return
		}
	}
}

// do sends one request with the next positive xid and waits for its reply.
func (c *rawClient) do(ctx context.Context, op proto.OpCode, body []byte) (frame, error) {
	c.xid++
	return c.doXid(ctx, c.xid, op, body)
}

// doXid sends a request with an explicit xid (auth uses -4) and waits for the reply.
func (c *rawClient) doXid(ctx context.Context, xid int32, op proto.OpCode, body []byte) (frame, error) {
	var e enc
	e.i32(xid)
	e.i32(int32(op))
	e.b = append(e.b, body...)
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetWriteDeadline(dl)
	}
	if err := writeFrame(c.conn, e.b); err != nil {
		return frame{}, fmt.Errorf("raw: send %v: %w", op, err)
	}
	select {
	case f := <-c.replies:
		return c.accept(xid, f)
	case <-c.done:
		select {
		case f := <-c.replies:
			return c.accept(xid, f)
		default:
			return frame{}, errConnClosed
		}
	case <-ctx.Done():
		return frame{}, fmt.Errorf("raw: waiting for %v reply: %w", op, ctx.Err())
	}
}

func (c *rawClient) accept(xid int32, f frame) (frame, error) {
	if f.xid != xid {
		return f, fmt.Errorf("raw: reply xid %d, want %d (FIFO order broken)", f.xid, xid)
	}
	if f.zxid > c.lastZxid {
		c.lastZxid = f.zxid
	}
	return f, nil
}

// takeEvents returns the notifications received so far and forgets them.
func (c *rawClient) takeEvents() []frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}

// waitClosed waits until the server closes the connection.
func (c *rawClient) waitClosed(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drop closes the socket without closeSession (a connection loss) and waits for the reader.
func (c *rawClient) drop() {
	select {
	case <-c.quit:
	default:
		close(c.quit)
	}
	_ = c.conn.Close()
	<-c.done
}

// writeFrame writes a length-prefixed packet.
func writeFrame(w io.Writer, body []byte) error {
	p := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), uint32(len(body)))
	_, err := w.Write(append(p, body...))
	return err
}

// readFrame reads one length-prefixed packet.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > 16<<20 {
		return nil, fmt.Errorf("raw: frame length %d too large", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}
