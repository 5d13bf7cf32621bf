package server_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// waitTimeout bounds every wait on the server in these tests; conditions are
// polled or awaited, never slept for.
const waitTimeout = 10 * time.Second

// testCtx returns a context that ends with the test or after waitTimeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// dial opens a wireclient session and drops it when the test ends.
func dial(t *testing.T, addr string, opts wireclient.Options) *wireclient.Conn {
	t.Helper()
	c, err := wireclient.Dial(testCtx(t), addr, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(c.Drop)
	return c
}

// nextEvent returns the next watch notification of c.
func nextEvent(t *testing.T, c *wireclient.Conn) wireclient.Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(waitTimeout):
		t.Fatal("no watch event")
	}
	panic("unreachable")
}

// expectEvents reads len(want) notifications and checks them, in any order.
func expectEvents(t *testing.T, c *wireclient.Conn, want ...wireclient.Event) {
	t.Helper()
	pending := map[wireclient.Event]int{}
	for _, w := range want {
		w.State, w.Zxid = proto.StateSyncConnected, -1
		pending[w]++
	}
	for range want {
		ev := nextEvent(t, c)
		if pending[ev] == 0 {
			t.Fatalf("unexpected event %+v (still waiting for %v)", ev, pending)
		}
		pending[ev]--
	}
}

// expectNoEvent checks that c receives no notification for d: a negative
// check, so it has to take the time.
func expectNoEvent(t *testing.T, c *wireclient.Conn, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.Events():
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// waitClosed waits until the server has closed c's connection.
func waitClosed(t *testing.T, c *wireclient.Conn) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-c.Events():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("server did not close the connection")
		}
	}
}

// create makes a node with an open ACL and returns its path.
func create(t *testing.T, c *wireclient.Conn, path, data string, mode proto.CreateMode) string {
	t.Helper()
	var resp proto.CreateResponse
	req := &proto.CreateRequest{Path: path, Data: []byte(data), ACL: proto.OpenACLUnsafe, Flags: mode}
	if _, err := c.Do(testCtx(t), proto.OpCreate, req, &resp); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	return resp.Path
}

// exists reports whether path exists, optionally leaving a watch.
func exists(t *testing.T, c *wireclient.Conn, path string, watch bool) bool {
	t.Helper()
	_, err := c.Do(testCtx(t), proto.OpExists, &proto.PathWatchRequest{Path: path, Watch: watch}, &proto.StatResponse{})
	switch {
	case err == nil:
		return true
	case errors.Is(err, proto.ErrNoNode):
		return false
	}
	t.Fatalf("exists %s: %v", path, err)
	return false
}

// getData reads path, optionally leaving a watch.
func getData(t *testing.T, c *wireclient.Conn, path string, watch bool) (string, proto.Stat) {
	t.Helper()
	var resp proto.GetDataResponse
	if _, err := c.Do(testCtx(t), proto.OpGetData, &proto.PathWatchRequest{Path: path, Watch: watch}, &resp); err != nil {
		t.Fatalf("getData %s: %v", path, err)
	}
	return string(resp.Data), resp.Stat
}

// children lists path's children, optionally leaving a watch.
func children(t *testing.T, c *wireclient.Conn, path string, watch bool) []string {
	t.Helper()
	var resp proto.GetChildrenResponse
	if _, err := c.Do(testCtx(t), proto.OpGetChildren, &proto.PathWatchRequest{Path: path, Watch: watch}, &resp); err != nil {
		t.Fatalf("getChildren %s: %v", path, err)
	}
	return resp.Children
}

// setData writes path at any version and returns the reply's zxid.
func setData(t *testing.T, c *wireclient.Conn, path, data string) int64 {
	t.Helper()
	hdr, err := c.Do(testCtx(t), proto.OpSetData, &proto.SetDataRequest{Path: path, Data: []byte(data), Version: -1}, &proto.StatResponse{})
	if err != nil {
		t.Fatalf("setData %s: %v", path, err)
	}
	return hdr.Zxid
}

// rawConn is a bare TCP connection for checking exactly what the server sends
// (or that it sends nothing) around the handshake.
type rawConn struct {
	t   *testing.T
	raw *wireclient.RawConn
	nc  net.Conn // raw's socket, for writing arbitrary bytes
}

// rawDial connects without a handshake; the connection closes with the test.
func rawDial(t *testing.T, addr string) *rawConn {
	t.Helper()
	raw, err := wireclient.DialRaw(testCtx(t), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(waitTimeout))
	return &rawConn{t: t, raw: raw, nc: raw.Conn}
}

// send writes one frame holding the concatenation of recs.
func (r *rawConn) send(recs ...proto.Record) {
	r.t.Helper()
	if err := r.trySend(recs...); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// trySend is send for callers that expect the server may hang up.
func (r *rawConn) trySend(recs ...proto.Record) error { return r.raw.Send(recs...) }

// connect sends req and returns the decoded ConnectResponse, or nil if the
// server closed the connection without one.
func (r *rawConn) connect(req proto.ConnectRequest) *proto.ConnectResponse {
	r.t.Helper()
	resp, err := r.raw.Handshake(&req)
	if errors.Is(err, io.EOF) || isReset(err) {
		return nil // closed without a reply (a reset if our bytes were unread)
	}
	if err != nil {
		r.t.Fatalf("connect: %v", err)
	}
	return resp
}

// reply reads the next frame as a reply header and body.
func (r *rawConn) reply() (proto.ReplyHeader, []byte, error) { return r.raw.ReadReply() }

// expectEOF checks that the server closes the connection with nothing more
// to say.
func (r *rawConn) expectEOF() {
	r.t.Helper()
	var b [1]byte
	n, err := r.nc.Read(b[:])
	if n > 0 {
		r.t.Fatalf("expected the server to close, got byte 0x%x", b[0])
	}
	if !errors.Is(err, io.EOF) && !isReset(err) {
		r.t.Fatalf("expected EOF, got %v", err)
	}
}

// isReset reports a connection reset by the peer.
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// expectExpired checks the expired ConnectResponse of §2.2 followed by close.
func (r *rawConn) expectExpired(resp *proto.ConnectResponse) {
	r.t.Helper()
	if resp == nil {
		r.t.Fatal("server closed without the expired ConnectResponse")
	}
	if resp.TimeOut != 0 || resp.SessionID != 0 || len(resp.Passwd) != 16 || string(resp.Passwd) != string(make([]byte, 16)) {
		r.t.Fatalf("want expired response (timeout 0, session 0, zero password), got %+v", resp)
	}
	r.expectEOF()
}

// fourLetter sends a four-letter word (plus extra bytes) and returns the
// whole answer up to the server's close.
func fourLetter(t *testing.T, addr, cmd string, extra ...byte) string {
	t.Helper()
	r := rawDial(t, addr)
	if _, err := r.nc.Write(append([]byte(cmd), extra...)); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r.nc)
	if err != nil && !isReset(err) {
		t.Fatalf("%s: %v", cmd, err)
	}
	return string(out)
}

// be64 encodes v big-endian, as stmk's mask travels.
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
