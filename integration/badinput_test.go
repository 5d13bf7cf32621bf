package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// badInputCase sends one kind of malformed traffic on a fresh socket and checks
// the server's reaction, which must be ZooKeeper's.
type badInputCase struct {
	name string
	run  func(ctx context.Context, t *testing.T, addr string)
}

var badInputCases = []badInputCase{
	{"truncated frame then close", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		// Promise 100 bytes, deliver 10, hang up: the server must drop the half packet.
		_, _ = c.Write(append([]byte{0, 0, 0, 100}, bytes.Repeat([]byte{7}, 10)...))
		c.Close()
	}},
	{"length over jute.maxbuffer", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		// Only the length is sent: a server that waits for the body instead of closing fails the deadline.
		writeRaw(t, c, []byte{0x00, 0x10, 0x00, 0x00}) // 0x100000 = maxbuffer+1
		expectClosedNoReply(ctx, t, c)
	}},
	{"length over jute.maxbuffer after connect", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		handshake(ctx, t, c)
		writeRaw(t, c, []byte{0x7f, 0xff, 0xff, 0xff})
		expectClosedNoReply(ctx, t, c)
	}},
	{"negative length", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		writeRaw(t, c, []byte{0xff, 0xff, 0xff, 0xfe, 1, 2, 3})
		expectClosedNoReply(ctx, t, c)
	}},
	{"garbage connect request", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		// A well-framed body too short for a ConnectRequest.
		writeRaw(t, c, append([]byte{0, 0, 0, 9}, []byte("garbage!!")...))
		expectClosedNoReply(ctx, t, c)
	}},
	{"garbage request header after connect", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		handshake(ctx, t, c)
		// Three bytes cannot hold a RequestHeader (8 bytes).
		writeRaw(t, c, []byte{0, 0, 0, 3, 'a', 'b', 'c'})
		expectClosedNoReply(ctx, t, c)
	}},
	{"unknown opcode after connect", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		handshake(ctx, t, c)
		send(t, c, &proto.RequestHeader{Xid: 1, Op: 999})
		f := expectReply(ctx, t, c)
		if f.xid != 1 || f.err != int32(proto.ErrUnimplemented) {
			t.Fatalf("unknown opcode: reply xid=%d err=%d, want xid=1 err=%d", f.xid, f.err, proto.ErrUnimplemented)
		}
		expectClosedNoReply(ctx, t, c)
	}},
	{"invalid paths on create", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		handshake(ctx, t, c)
		for i, p := range []string{"no-slash", "", "//", "/.", "/badinput/.", "/badinput/..", "/nul\x00x", "/ctl\x01"} {
			send(t, c, &proto.RequestHeader{Xid: int32(i + 1), Op: proto.OpCreate}, &proto.CreateRequest{Path: p, ACL: proto.OpenACLUnsafe})
			f := expectReply(ctx, t, c)
			if f.err != int32(proto.ErrBadArguments) || len(f.body) != 0 {
				t.Fatalf("create %q: err=%d body=%d bytes, want err=%d and no body", p, f.err, len(f.body), proto.ErrBadArguments)
			}
		}
		expectPing(ctx, t, c) // the connection survives a bad path
	}},
	{"undecodable request body", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		handshake(ctx, t, c)
		// getData whose path claims 1000 bytes but carries 2.
		var e proto.Encoder
		(&proto.RequestHeader{Xid: 1, Op: proto.OpGetData}).Encode(&e)
		e.Int32(1000)
		writeRaw(t, c, proto.AppendFrame(nil, append(e.Bytes(), '/', 'x')))
		if f := expectReply(ctx, t, c); f.xid != 1 || f.err != int32(proto.ErrMarshallingError) || len(f.body) != 0 {
			t.Fatalf("undecodable body: xid=%d err=%d body=%d bytes, want xid=1 err=%d", f.xid, f.err, len(f.body), proto.ErrMarshallingError)
		}
		expectPing(ctx, t, c) // ZooKeeper keeps the connection
	}},
	{"request before connect", func(ctx context.Context, t *testing.T, addr string) {
		c := dialTCP(ctx, t, addr)
		// An exists request as the first packet: it is parsed as a ConnectRequest
		// and rejected without any reply.
		send(t, c, &proto.RequestHeader{Xid: 1, Op: proto.OpExists}, &proto.PathWatchRequest{Path: "/zookeeper"})
		expectClosedNoReply(ctx, t, c)
	}},
}

// TestBadInput checks each malformed input against every target, and that the
// server then still serves a second client with all committed data intact.
func TestBadInput(t *testing.T) {
	for _, tg := range targets(t, TargetOptions{}) {
		t.Run(tg.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			keeper, err := dialRaw(ctx, tg.Addr, 0, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer keeper.drop()
			mustCreate(ctx, t, keeper, "/badinput", []byte("committed"), proto.ModePersistent)
			mustCreate(ctx, t, keeper, "/badinput/eph", []byte("mine"), proto.ModeEphemeral)
			for i, bc := range badInputCases {
				t.Run(bc.name, func(t *testing.T) {
					bc.run(ctx, t, tg.Addr)
					checkStillServing(ctx, t, tg.Addr, keeper, i)
				})
			}
		})
	}
}

// checkStillServing proves the server survived: a new client (herd's own
// wireclient, independent of the raw code that sent the bad input) reads the
// earlier data and commits a write, and the long-lived keeper session still works.
func checkStillServing(ctx context.Context, t *testing.T, addr string, keeper *rawClient, i int) {
	t.Helper()
	c, err := wireclient.Dial(ctx, addr, wireclient.Options{LastZxid: keeper.lastZxid, SendReadOnlyByte: true})
	if err != nil {
		t.Fatalf("second client cannot connect after bad input: %v", err)
	}
	defer func() { _ = c.Close(ctx) }()
	for _, p := range []struct {
		path, data string
	}{{"/badinput", "committed"}, {"/badinput/eph", "mine"}} {
		var resp proto.GetDataResponse
		if _, err := c.Do(ctx, proto.OpGetData, &proto.PathWatchRequest{Path: p.path}, &resp); err != nil {
			t.Fatalf("getData %s after bad input: %v", p.path, err)
		}
		if string(resp.Data) != p.data {
			t.Fatalf("getData %s = %q, want %q", p.path, resp.Data, p.data)
		}
	}
	path := fmt.Sprintf("/badinput/after-%d", i)
	req := proto.CreateRequest{Path: path, ACL: proto.OpenACLUnsafe, Flags: proto.ModePersistent}
	if _, err := c.Do(ctx, proto.OpCreate, &req, nil); err != nil {
		t.Fatalf("create %s after bad input: %v", path, err)
	}
	if f, err := keeper.do(ctx, proto.OpExists, encode(&proto.PathWatchRequest{Path: "/badinput"})); err != nil || f.err != 0 {
		t.Fatalf("keeper session broken after bad input: err=%v code=%d", err, f.err)
	}
}

func mustCreate(ctx context.Context, t *testing.T, c *rawClient, path string, data []byte, mode proto.CreateMode) {
	t.Helper()
	f, err := c.do(ctx, proto.OpCreate, encode(&proto.CreateRequest{Path: path, Data: data, ACL: proto.OpenACLUnsafe, Flags: mode}))
	if err != nil || f.err != 0 {
		t.Fatalf("create %s: err=%v code=%d", path, err, f.err)
	}
}

func dialTCP(ctx context.Context, t *testing.T, addr string) *wireclient.RawConn {
	t.Helper()
	c, err := wireclient.DialRaw(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func writeRaw(t *testing.T, c net.Conn, p []byte) {
	t.Helper()
	if _, err := c.Write(p); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// send writes one frame holding recs: a RequestHeader and its body, if any.
func send(t *testing.T, c *wireclient.RawConn, recs ...proto.Record) {
	t.Helper()
	if err := c.Send(recs...); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// handshake opens a fresh session on c with a 45-byte ConnectRequest.
func handshake(ctx context.Context, t *testing.T, c *wireclient.RawConn) {
	t.Helper()
	send(t, c, &proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
	body, err := c.ReadFrame()
	if err != nil {
		t.Fatalf("connect response: %v", err)
	}
	if len(body) != 37 {
		t.Fatalf("connect response is %d bytes, want 37", len(body))
	}
}

func expectReply(ctx context.Context, t *testing.T, c *wireclient.RawConn) frame {
	t.Helper()
	hdr, body, err := c.ReadReply()
	if err != nil {
		t.Fatalf("want a reply, got %v", err)
	}
	return frame{xid: hdr.Xid, zxid: hdr.Zxid, err: int32(hdr.Err), body: body}
}

// expectClosedNoReply requires the server to close c without sending a byte.
func expectClosedNoReply(ctx context.Context, t *testing.T, c net.Conn) {
	t.Helper()
	var b [64]byte
	n, err := c.Read(b[:])
	if n > 0 {
		t.Fatalf("server replied %d bytes (% x), want the connection closed without a reply", n, b[:n])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept the connection open; ZooKeeper closes it")
	}
	if err == nil {
		t.Fatal("read returned nothing and no error")
	}
	if !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("read: %v, want EOF", err)
	}
}

// expectPing sends a ping and requires its reply: the connection is still served.
func expectPing(ctx context.Context, t *testing.T, c *wireclient.RawConn) {
	t.Helper()
	send(t, c, &proto.RequestHeader{Xid: proto.XidPing, Op: proto.OpPing})
	if f := expectReply(ctx, t, c); f.xid != proto.XidPing || f.err != 0 {
		t.Fatalf("ping: reply xid=%d err=%d, want xid=%d err=0", f.xid, f.err, proto.XidPing)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
