package framework_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/faultproxy"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// wait is the deadline for anything a test waits for.
const wait = 30 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// newClient connects to connect, waits for the session and closes the client
// at test end. Retries are quick so failures show fast.
func newClient(t testing.TB, connect string, opts ...framework.Option) *framework.Client {
	t.Helper()
	base := []framework.Option{
		framework.WithSessionTimeout(10 * time.Second),
		framework.WithConnectionTimeout(5 * time.Second),
		framework.WithRetryPolicy(framework.RetryNTimes(20, 50*time.Millisecond)),
		framework.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))),
	}
	c, err := framework.New(connect, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New(%q): %v", connect, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.BlockUntilConnected(testCtx(t)); err != nil {
		t.Fatalf("BlockUntilConnected: %v", err)
	}
	return c
}

// newProxy puts a fault proxy in front of addr for the test.
func newProxy(t testing.TB, addr string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// expectStates reads the next states from ch and compares them with want.
func expectStates(t testing.TB, ch <-chan framework.ConnectionState, want ...framework.ConnectionState) {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for i, w := range want {
		select {
		case got, ok := <-ch:
			if !ok {
				t.Fatalf("state channel closed, want %v (#%d of %v)", w, i, want)
			}
			if got != w {
				t.Fatalf("state #%d = %v, want %v (sequence %v)", i, got, w, want)
			}
		case <-timer.C:
			t.Fatalf("timed out waiting for state %v (#%d of %v)", w, i, want)
		}
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// expireSession makes the server expire the session of c: it attaches a second
// connection to the same session (id and password) and closes the session
// from there, the standard trick of ZooKeeper's own tests.
func expireSession(t testing.TB, addr string, c *framework.Client) {
	t.Helper()
	conn := c.Conn()
	sid := conn.SessionID()
	// go-zookeeper keeps the password unexported; read it for the test only.
	passwd := append([]byte(nil), reflect.ValueOf(conn).Elem().FieldByName("passwd").Bytes()...)
	if err := closeSessionRaw(addr, sid, passwd); err != nil {
		t.Fatalf("expire session %#x: %v", sid, err)
	}
}

// closeSessionRaw speaks just enough of the wire protocol: ConnectRequest
// with the session's id and password, then closeSession (opcode -11).
func closeSessionRaw(addr string, sid int64, passwd []byte) error {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd.
	req := binary.BigEndian.AppendUint32(nil, 0)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, 10000)
	req = binary.BigEndian.AppendUint64(req, uint64(sid))
	req = binary.BigEndian.AppendUint32(req, uint32(len(passwd)))
	req = append(req, passwd...)
	if err := writeFrame(nc, req); err != nil {
		return err
	}
	resp, err := readFrame(nc)
	if err != nil {
		return err
	}
	// ConnectResponse: protocolVersion, timeOut, sessionId, passwd.
	if len(resp) < 16 || int64(binary.BigEndian.Uint64(resp[8:16])) != sid {
		return fmt.Errorf("server did not attach session %#x (response %x)", sid, resp)
	}
	// RequestHeader: xid, type = closeSession.
	close := binary.BigEndian.AppendUint32(nil, 1)
	close = binary.BigEndian.AppendUint32(close, uint32(0xFFFFFFF5)) // -11
	if err := writeFrame(nc, close); err != nil {
		return err
	}
	if _, err := readFrame(nc); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func writeFrame(w io.Writer, b []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...))
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(n[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

// ensure makes sure p exists (with parents) using c.
func ensure(t testing.TB, c *framework.Client, p string) {
	t.Helper()
	if err := c.EnsurePath(testCtx(t), p, false); err != nil {
		t.Fatal(err)
	}
}

var _ = zk.ErrNoNode
