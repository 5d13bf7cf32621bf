package proto

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// rawClient is a minimal ZooKeeper client built only on this package's
// records, used to check byte layouts against a real server.
type rawClient struct {
	t      *testing.T
	conn   net.Conn
	enc    Encoder
	buf    []byte
	xid    int32
	events []WatcherEvent
	// sent and received record every payload, for fuzz seeds.
	sent, received [][]byte
}

// dialRaw connects to addr and performs the handshake with req, returning the
// client and the decoded response plus its raw length.
func dialRaw(t *testing.T, addr string, req *ConnectRequest) (*rawClient, *ConnectResponse, int) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, conn: conn}
	c.write(req)
	payload := c.read()
	var resp ConnectResponse
	d := NewDecoder(payload, 0)
	resp.Decode(d)
	if err := d.Err(); err != nil {
		t.Fatalf("decode ConnectResponse %x: %v", payload, err)
	}
	return c, &resp, len(payload)
}

// write sends one framed packet made of recs.
func (c *rawClient) write(recs ...Record) {
	c.t.Helper()
	c.enc.Reset()
	start := c.enc.StartFrame()
	for _, r := range recs {
		r.Encode(&c.enc)
	}
	c.enc.EndFrame(start)
	c.sent = append(c.sent, append([]byte(nil), c.enc.Bytes()[start+4:]...))
	if _, err := c.conn.Write(c.enc.Bytes()); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame's payload (valid until the next read).
func (c *rawClient) read() []byte {
	c.t.Helper()
	p, err := ReadFrame(c.conn, c.buf, 0)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	c.buf = p[:0]
	c.received = append(c.received, bytes.Clone(p))
	return p
}

// call sends op with body (nil for none) and waits for the reply with the
// same xid, collecting notifications that arrive first. If resp is non-nil and
// the reply is not an error it is decoded into resp, and the whole body must
// be consumed.
func (c *rawClient) call(op OpCode, body, resp Record) ReplyHeader {
	c.t.Helper()
	c.xid++
	xid := c.xid
	if op == OpPing {
		xid = XidPing
	}
	hdr := &RequestHeader{Xid: xid, Op: op}
	if body != nil {
		c.write(hdr, body)
	} else {
		c.write(hdr)
	}
	for {
		payload := c.read()
		d := NewDecoder(payload, 0)
		var rh ReplyHeader
		rh.Decode(d)
		if d.Err() != nil {
			c.t.Fatalf("reply header %x: %v", payload, d.Err())
		}
		if rh.Xid == XidNotification {
			var ev WatcherEvent
			ev.Decode(d)
			if d.Err() != nil || d.Remaining() != 0 {
				c.t.Fatalf("notification %x: err=%v left=%d", payload, d.Err(), d.Remaining())
			}
			c.events = append(c.events, ev)
			continue
		}
		if rh.Xid != xid {
			c.t.Fatalf("%v: reply xid %d, want %d", op, rh.Xid, xid)
		}
		if resp != nil && rh.Err == ErrOK {
			resp.Decode(d)
			if d.Err() != nil || d.Remaining() != 0 {
				c.t.Fatalf("%v reply %x: err=%v left=%d", op, payload, d.Err(), d.Remaining())
			}
		} else if d.Remaining() != 0 && op != OpAddWatch {
			c.t.Fatalf("%v: unexpected %d-byte body with err %v", op, d.Remaining(), rh.Err)
		}
		return rh
	}
}

// mustCall is call that fails the test unless the reply's err is want.
func (c *rawClient) mustCall(op OpCode, body, resp Record, want Error) ReplyHeader {
	c.t.Helper()
	rh := c.call(op, body, resp)
	if rh.Err != want {
		c.t.Fatalf("%v: err %v (%d), want %v", op, rh.Err, rh.Err, want)
	}
	return rh
}
