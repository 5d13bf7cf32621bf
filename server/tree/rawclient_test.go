package tree

import (
	"net"
	"testing"
	"time"

	"github.com/herd-io/herd/server/proto"
)

// rawClient speaks the ZooKeeper wire protocol with server/proto's codec, so
// tests can send what go-zookeeper/zk refuses to (invalid paths and flags,
// createTTL with odd modes, multi with create2/container ops, getEphemerals,
// getAllChildrenNumber). Calls are synchronous; notifications are skipped.
type rawClient struct {
	t       *testing.T
	conn    net.Conn
	xid     int32
	session int64
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.Close() })
	c.send(nil, &proto.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)})
	var resp proto.ConnectResponse
	d := proto.NewDecoder(c.read(), 0)
	resp.Decode(d)
	if d.Err() != nil || resp.SessionID == 0 {
		t.Fatalf("connect: %v %+v", d.Err(), resp)
	}
	c.session = resp.SessionID
	return c
}

func (c *rawClient) send(hdr *proto.RequestHeader, req proto.Record) {
	c.t.Helper()
	e := proto.NewEncoder(nil)
	start := e.StartFrame()
	if hdr != nil {
		hdr.Encode(e)
	}
	if req != nil {
		req.Encode(e)
	}
	e.EndFrame(start)
	_ = c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(e.Bytes()); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) read() []byte {
	c.t.Helper()
	_ = c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := proto.ReadFrame(c.conn, nil, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// call sends op with req and decodes the reply body into resp when the reply
// carries no error; it returns the reply's error code.
func (c *rawClient) call(op proto.OpCode, req, resp proto.Record) proto.Error {
	c.t.Helper()
	c.xid++
	c.send(&proto.RequestHeader{Xid: c.xid, Op: op}, req)
	for {
		d := proto.NewDecoder(c.read(), 0)
		var h proto.ReplyHeader
		h.Decode(d)
		if h.Xid != c.xid {
			continue // a notification
		}
		if h.Err == 0 && resp != nil {
			resp.Decode(d)
			if d.Err() != nil {
				c.t.Fatalf("decode %v reply: %v", op, d.Err())
			}
		}
		return h.Err
	}
}
