package integration

import (
	"context"
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
	req := proto.ConnectRequest{LastZxidSeen: lastZxid, TimeOut: 30000, SessionID: session, Passwd: passwd, HasReadOnly: true}
	if err := writeFrame(conn, encode(&req)); err != nil {
		conn.Close()
		return nil, err
	}
	body, err := readFrame(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("raw: connect response: %w", err)
	}
	var resp proto.ConnectResponse
	rd := proto.NewDecoder(body, maxFrame)
	resp.Decode(rd)
	if err := rd.Err(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("raw: connect response: %w", err)
	}
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		conn.Close()
		return nil, errExpired
	}
	_ = conn.SetDeadline(time.Time{})
	c := &rawClient{conn: conn, sessionID: resp.SessionID, passwd: resp.Passwd, timeout: resp.TimeOut, lastZxid: lastZxid,
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
		f, err := parseReply(body)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
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
	hdr := proto.RequestHeader{Xid: xid, Op: op}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetWriteDeadline(dl)
	}
	if err := writeFrame(c.conn, append(encode(&hdr), body...)); err != nil {
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

// maxFrame caps the frames the raw client reads and the lengths it decodes. It
// is well above jute.maxbuffer so an oversized reply is reported, not refused.
const maxFrame = 16 << 20

// encode returns rec's jute encoding; a nil rec is an empty body.
func encode(rec proto.Record) []byte {
	if rec == nil {
		return nil
	}
	var e proto.Encoder
	rec.Encode(&e)
	return e.Bytes()
}

// parseReply splits a reply packet into its ReplyHeader and body.
func parseReply(p []byte) (frame, error) {
	var h proto.ReplyHeader
	d := proto.NewDecoder(p, maxFrame)
	h.Decode(d)
	if err := d.Err(); err != nil {
		return frame{}, fmt.Errorf("raw: reply header: %w", err)
	}
	return frame{xid: h.Xid, zxid: h.Zxid, err: int32(h.Err), body: p[len(p)-d.Remaining():]}, nil
}

// writeFrame writes a length-prefixed packet.
func writeFrame(w io.Writer, body []byte) error {
	_, err := w.Write(proto.AppendFrame(make([]byte, 0, 4+len(body)), body))
	return err
}

// readFrame reads one length-prefixed packet into a new slice.
func readFrame(r io.Reader) ([]byte, error) {
	return proto.ReadFrame(r, nil, maxFrame)
}
