package integration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// errConnClosed reports that the server closed the connection before replying.
var errConnClosed = wireclient.ErrConnectionLoss

// errExpired reports a ConnectResponse with timeout 0 and session 0.
var errExpired = wireclient.ErrSessionExpired

// frame is one server packet after the connect handshake.
type frame struct {
	xid  int32
	zxid int64
	err  int32
	body []byte
}

// rawClient is the conformance scripts' client: a wireclient.Conn without
// pings, so the server sees only the requests a step sends, that reports every
// reply and notification verbatim (error codes as values, bodies undecoded),
// so a difference between servers cannot be hidden by a client library.
type rawClient struct {
	conn      *wireclient.Conn
	sessionID int64
	passwd    []byte
	timeout   int32
	lastZxid  int64 // highest reply zxid, as real clients track it
	taken     uint64
}

// dialRaw connects and performs the handshake; session 0 asks for a new session.
func dialRaw(ctx context.Context, addr string, session int64, passwd []byte, lastZxid int64) (*rawClient, error) {
	c, err := wireclient.Dial(ctx, addr, wireclient.Options{SessionTimeout: 30 * time.Second, SessionID: session,
		Passwd: passwd, LastZxid: lastZxid, SendReadOnlyByte: true, NoPings: true, MaxBuffer: maxFrame})
	if err != nil {
		return nil, err
	}
	return &rawClient{conn: c, sessionID: c.SessionID(), passwd: c.Passwd(), timeout: int32(c.Timeout() / time.Millisecond),
		lastZxid: lastZxid}, nil
}

// do sends one request with the next positive xid and waits for its reply.
func (c *rawClient) do(ctx context.Context, op proto.OpCode, body []byte) (frame, error) {
	return c.doXid(ctx, 0, op, body)
}

// doXid sends a request with an explicit xid (auth uses -4) and waits for the reply.
func (c *rawClient) doXid(ctx context.Context, xid int32, op proto.OpCode, body []byte) (frame, error) {
	hdr, b, err := c.conn.DoXid(ctx, xid, op, body)
	c.lastZxid = max(c.lastZxid, c.conn.LastZxid())
	// A reply's error code comes back as err itself; anything else means no reply.
	if err != nil && err != error(hdr.Err) {
		if errors.Is(err, wireclient.ErrXidMismatch) || !errors.Is(err, wireclient.ErrConnectionLoss) {
			return frame{}, fmt.Errorf("raw: %v: %v", op, err) // not errConnClosed: say what went wrong
		}
		return frame{}, errConnClosed
	}
	return frame{xid: hdr.Xid, zxid: hdr.Zxid, err: int32(hdr.Err), body: b}, nil
}

// takeEvents returns the notifications received so far and forgets them.
func (c *rawClient) takeEvents() []frame {
	var out []frame
	for n := c.conn.Notifications(); c.taken < n; c.taken++ {
		ev, ok := <-c.conn.Events()
		if !ok {
			break
		}
		// The normaliser decodes notifications from their bytes: give it back
		// what the server sent, trailing bytes included.
		var e proto.Encoder
		(&proto.WatcherEvent{Type: ev.Type, State: ev.State, Path: ev.Path}).Encode(&e)
		out = append(out, frame{xid: proto.XidNotification, zxid: ev.Zxid, body: append(e.Bytes(), make([]byte, ev.Trailing)...)})
	}
	return out
}

// waitClosed waits until the server closes the connection.
func (c *rawClient) waitClosed(ctx context.Context) error {
	select {
	case <-c.conn.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drop closes the socket without closeSession (a connection loss).
func (c *rawClient) drop() { c.conn.Drop() }

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
