package wireclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/herd-io/herd/server/proto"
)

// fakeListener accepts one connection and hands it to handle; it lets tests
// misbehave in ways real servers do not.
func fakeListener(t *testing.T, handle func(nc net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		handle(nc)
	}()
	return l.Addr().String()
}

// fakeServer is a fakeListener that completes the handshake (with resp, or
// session 42) and then runs script on the connection.
func fakeServer(t *testing.T, script func(nc net.Conn), resp ...proto.ConnectResponse) string {
	t.Helper()
	r := proto.ConnectResponse{TimeOut: 9000, SessionID: 42, Passwd: make([]byte, 16)}
	if len(resp) > 0 {
		r = resp[0]
	}
	return fakeListener(t, func(nc net.Conn) {
		if _, err := proto.ReadFrame(nc, nil, 0); err != nil {
			return
		}
		var e proto.Encoder
		r.Encode(&e)
		if _, err := nc.Write(proto.AppendFrame(nil, e.Bytes())); err != nil {
			return
		}
		script(nc)
	})
}

// readConnect reads and decodes a ConnectRequest (zero if there is none).
func readConnect(nc net.Conn) proto.ConnectRequest {
	var req proto.ConnectRequest
	if f, err := proto.ReadFrame(nc, nil, 0); err == nil {
		req.Decode(proto.NewDecoder(f, 0))
	}
	return req
}

func reply(nc net.Conn, xid int32, zxid int64, code proto.Error, body []byte) {
	var e proto.Encoder
	(&proto.ReplyHeader{Xid: xid, Zxid: zxid, Err: code}).Encode(&e)
	_, _ = nc.Write(proto.AppendFrame(nil, append(e.Bytes(), body...)))
}

func readRequest(nc net.Conn) (proto.RequestHeader, error) {
	f, err := proto.ReadFrame(nc, nil, 0)
	if err != nil {
		return proto.RequestHeader{}, err
	}
	var h proto.RequestHeader
	h.Decode(proto.NewDecoder(f, 0))
	return h, nil
}

func TestServerHangupFailsPendingWithConnectionLoss(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) { _, _ = readRequest(nc) })
	ctx := testCtx(t)
	c := dial(t, addr, Options{})
	defer c.Drop()
	_, err := c.Do(ctx, proto.OpGetData, &proto.PathWatchRequest{Path: "/x"}, &proto.GetDataResponse{})
	if !errors.Is(err, ErrConnectionLoss) || !errors.Is(err, proto.ErrConnectionLoss) {
		t.Fatalf("Do = %v, want connection loss", err)
	}
	ev, ok := <-c.Events()
	if !ok || ev.Type != proto.EventNone || ev.State != StateDisconnected {
		t.Fatalf("event %+v %v, want disconnected", ev, ok)
	}
	if _, ok := <-c.Events(); ok {
		t.Fatal("Events not closed after disconnect")
	}
}

func TestRepliesMatchFIFOAndErrorsSkipBody(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) {
		h1, err := readRequest(nc)
		if err != nil {
			return
		}
		h2, err := readRequest(nc)
		if err != nil {
			return
		}
		reply(nc, proto.XidNotification, -1, 0, func() []byte {
			var e proto.Encoder
			(&proto.WatcherEvent{Type: proto.EventNodeCreated, State: 3, Path: "/n"}).Encode(&e)
			return e.Bytes()
		}())
		reply(nc, h1.Xid, 7, proto.ErrNoNode, nil)
		reply(nc, h2.Xid, 8, 0, []byte{0, 0, 0, 5})
		_, _ = readRequest(nc) // wait for the client to go away
	})
	ctx := testCtx(t)
	c := dial(t, addr, Options{})
	defer c.Drop()
	first := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, proto.OpGetData, &proto.PathWatchRequest{Path: "/missing"}, &proto.GetDataResponse{})
		first <- err
	}()
	// The second request is sent after the first one is queued, so it gets the next xid.
	waitPending(t, c, 1)
	var n proto.CountResponse
	hdr, err := c.Do(ctx, proto.OpGetAllChildrenNumber, &proto.PathRequest{Path: "/"}, &n)
	if err != nil || n.Count != 5 || hdr.Zxid != 8 {
		t.Fatalf("second = %+v %v %v", n, hdr, err)
	}
	if err := <-first; !errors.Is(err, proto.ErrNoNode) {
		t.Fatalf("first = %v, want NoNode", err)
	}
	if ev := <-c.Events(); ev.Path != "/n" || ev.Type != proto.EventNodeCreated || ev.Zxid != -1 {
		t.Fatalf("event %+v", ev)
	}
	if c.LastZxid() != 8 {
		t.Fatalf("LastZxid %d", c.LastZxid())
	}
}

func TestOutOfOrderReplyIsConnectionLoss(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) {
		h, err := readRequest(nc)
		if err != nil {
			return
		}
		reply(nc, h.Xid+100, 1, 0, nil)
		_, _ = readRequest(nc)
	})
	c := dial(t, addr, Options{})
	defer c.Drop()
	_, err := c.Do(testCtx(t), proto.OpSync, &proto.PathRequest{Path: "/"}, &proto.PathResponse{})
	if !errors.Is(err, ErrXidMismatch) || !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("Do = %v", err)
	}
}

func TestDoHonoursContext(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) { _, _ = readRequest(nc); _, _ = readRequest(nc) })
	c := dial(t, addr, Options{})
	defer c.Drop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Do(ctx, proto.OpSync, &proto.PathRequest{Path: "/"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
}

func waitPending(t *testing.T, c *Conn, n int) {
	t.Helper()
	ctx := testCtx(t)
	for {
		c.mu.Lock()
		got := len(c.pending)
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("request never queued")
		default:
			// Yield to the goroutine issuing the request.
			<-time.After(time.Millisecond)
		}
	}
}
