package wireclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herd-io/herd/server/proto"
	"go.uber.org/zap"
)

// Conn is one connection bound to a ZooKeeper session. It is safe for
// concurrent use; replies are matched to requests in FIFO order.
type Conn struct {
	nc        net.Conn
	log       *zap.Logger
	maxBuffer int
	sessionID int64
	passwd    []byte
	timeout   time.Duration
	readOnly  bool
	noPings   bool
	lastZxid  atomic.Int64
	notified  atomic.Uint64 // notifications queued on events so far

	writeMu sync.Mutex // one frame at a time; also orders xids with the pending queue

	mu      sync.Mutex
	xid     int32
	pending []*call
	err     error // why the connection ended; set once
	closing bool

	events   *eventQueue
	quit     chan struct{} // closed to stop the pinger
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// call is one request waiting for its reply.
type call struct {
	xid  int32
	op   proto.OpCode
	done chan struct{}
	hdr  proto.ReplyHeader
	body []byte
	err  error
}

// Dial connects to addr and performs the session handshake. The returned Conn
// must be released with Close or Drop.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	opts.defaults()
	hctx, cancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	defer cancel()
	raw, err := dialRaw(hctx, addr, opts.TLS)
	if err != nil {
		return nil, err
	}
	raw.MaxBuffer = opts.MaxBuffer
	resp, err := handshake(hctx, raw, opts)
	if err != nil {
		raw.Close()
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("wireclient: %s did not answer the handshake within %v: %w",
				addr, opts.HandshakeTimeout, ErrConnectionLoss)
		}
		return nil, err
	}
	c := &Conn{
		nc: raw.Conn, log: opts.Logger.With(zap.String("addr", addr), zap.Int64("session", resp.SessionID)),
		maxBuffer: opts.MaxBuffer, sessionID: resp.SessionID, passwd: resp.Passwd,
		timeout: time.Duration(resp.TimeOut) * time.Millisecond, readOnly: resp.ReadOnly, noPings: opts.NoPings,
		events: newEventQueue(), quit: make(chan struct{}),
	}
	c.lastZxid.Store(opts.LastZxid)
	c.wg.Add(2)
	go c.readLoop()
	go c.pingLoop()
	return c, nil
}

// handshake sends the ConnectRequest and reads the ConnectResponse, giving up
// when ctx ends.
func handshake(ctx context.Context, raw *RawConn, opts Options) (*proto.ConnectResponse, error) {
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	resp, err := raw.Handshake(&proto.ConnectRequest{
		LastZxidSeen: opts.LastZxid, TimeOut: int32(opts.SessionTimeout / time.Millisecond),
		SessionID: opts.SessionID, Passwd: opts.Passwd, ReadOnly: opts.ReadOnly, HasReadOnly: opts.SendReadOnlyByte,
	})
	if err != nil {
		// A server that will not take this client (its lastZxidSeen is ahead
		// of the server's, or the server is starting) closes without a
		// response: connection loss, so a session moves on to the next server.
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("wireclient: handshake: %w: %w", ErrConnectionLoss, err)
	}
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		return nil, fmt.Errorf("wireclient: session 0x%x rejected: %w", uint64(opts.SessionID), ErrSessionExpired)
	}
	_ = raw.SetDeadline(time.Time{})
	return resp, nil
}

// SessionID is the session the server assigned or re-attached.
func (c *Conn) SessionID() int64 { return c.sessionID }

// Passwd is the session password, for re-attaching from another connection.
func (c *Conn) Passwd() []byte { return append([]byte(nil), c.passwd...) }

// Timeout is the negotiated session timeout.
func (c *Conn) Timeout() time.Duration { return c.timeout }

// ReadOnly reports whether the server said it is read-only.
func (c *Conn) ReadOnly() bool { return c.readOnly }

// LastZxid is the highest zxid seen in a reply header.
func (c *Conn) LastZxid() int64 { return c.lastZxid.Load() }

// Events delivers watch notifications in arrival order. After the connection
// ends it delivers one EventNone/StateDisconnected event and is closed; after
// Close or Drop undelivered events are discarded.
func (c *Conn) Events() <-chan Event { return c.events.out }

// Notifications is the number of watch notifications received so far. Every
// one counted is already queued on Events, and the notifications a server sent
// before a reply are counted by the time Do returns that reply, so a caller can
// wait until it has handled them all.
func (c *Conn) Notifications() uint64 { return c.notified.Load() }

// Done is closed when the connection has ended, whoever ended it.
func (c *Conn) Done() <-chan struct{} { return c.quit }

// Err returns why the connection ended, or nil while it is up.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Do sends req (nil for ops without a body) with the next xid, waits for the
// reply and decodes it into resp (nil to ignore the body) when the reply's
// error code is 0. A non-zero code is returned as a proto.Error along with the
// header.
func (c *Conn) Do(ctx context.Context, op proto.OpCode, req, resp proto.Record) (proto.ReplyHeader, error) {
	var body []byte
	if req != nil {
		var e proto.Encoder
		req.Encode(&e)
		body = e.Bytes()
	}
	hdr, rb, err := c.DoRaw(ctx, op, body)
	if err != nil {
		return hdr, err
	}
	if resp != nil {
		d := proto.NewDecoder(rb, c.maxBuffer)
		resp.Decode(d)
		if err := d.Err(); err != nil {
			return hdr, fmt.Errorf("wireclient: %s reply: %w", op, err)
		}
	}
	return hdr, nil
}

// DoRaw sends an already encoded body and returns the reply header and the
// raw reply body. Auth requests use xid -4 as the Java client does; every
// other op takes the next positive xid.
func (c *Conn) DoRaw(ctx context.Context, op proto.OpCode, body []byte) (proto.ReplyHeader, []byte, error) {
	xid := int32(0)
	if op == proto.OpAuth {
		xid = proto.XidAuth
	}
	return c.DoXid(ctx, xid, op, body)
}

// DoXid is DoRaw with a chosen xid; 0 means the next positive xid. Conformance
// tests use it to check how a server echoes special xids.
func (c *Conn) DoXid(ctx context.Context, xid int32, op proto.OpCode, body []byte) (proto.ReplyHeader, []byte, error) {
	cl, err := c.send(xid, op, body)
	if err != nil {
		return proto.ReplyHeader{}, nil, err
	}
	select {
	case <-cl.done:
	case <-ctx.Done():
		// The reply, if it comes, is matched and dropped by the read loop.
		return proto.ReplyHeader{}, nil, ctx.Err()
	}
	if cl.err != nil {
		return cl.hdr, nil, cl.err
	}
	if cl.hdr.Err != proto.ErrOK {
		return cl.hdr, cl.body, cl.hdr.Err
	}
	return cl.hdr, cl.body, nil
}

// send queues a call and writes its frame; the xid order on the wire equals
// the pending-queue order because both happen under writeMu.
func (c *Conn) send(xid int32, op proto.OpCode, body []byte) (*call, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.Lock()
	if c.closing && op != proto.OpCloseSession {
		// After Close or Drop, whatever the read loop saw first (often the
		// server's EOF after closeSession), the caller closed this connection.
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	if xid == 0 {
		c.xid = c.xid%0x7fffffff + 1
		xid = c.xid
	}
	cl := &call{xid: xid, op: op, done: make(chan struct{})}
	c.pending = append(c.pending, cl)
	c.mu.Unlock()
	if err := c.writeFrame(xid, op, body); err != nil {
		c.fail(fmt.Errorf("%w: write: %w", ErrConnectionLoss, err))
	}
	return cl, nil
}

// writeFrame writes header+body as one frame; the caller holds writeMu.
func (c *Conn) writeFrame(xid int32, op proto.OpCode, body []byte) error {
	var e proto.Encoder
	start := e.StartFrame()
	(&proto.RequestHeader{Xid: xid, Op: op}).Encode(&e)
	frame := append(e.Bytes(), body...)
	binary.BigEndian.PutUint32(frame[start:], uint32(len(frame)-start-4))
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write(frame)
	return err
}
