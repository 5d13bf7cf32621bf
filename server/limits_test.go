package server_test

import (
	"strings"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

// TestMaxClientCnxnsPerIP checks that connections over MaxClientCnxns are closed unanswered, and that closing
// one frees its slot.
func TestMaxClientCnxnsPerIP(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.MaxClientCnxns = 2 }))
	a := dial(t, s.Addr, wireclient.Options{})
	b := dial(t, s.Addr, wireclient.Options{})
	// A third connection from the same address is closed at once, no reply.
	r := rawDial(t, s.Addr)
	if resp := r.connect(proto.ConnectRequest{TimeOut: 30000}); resp != nil {
		t.Fatalf("connection over the limit got %+v", resp)
	}
	create(t, a, "/still", "ok", proto.ModePersistent)
	// Closing one frees its slot.
	b.Drop()
	waitFor(t, "a freed connection slot", func() bool {
		r := rawDial(t, s.Addr)
		resp := r.connect(proto.ConnectRequest{TimeOut: 30000})
		r.nc.Close()
		return resp != nil
	})
	if d, _ := getData(t, a, "/still", false); d != "ok" {
		t.Fatalf("data %q", d)
	}
}

// TestSlowConsumerIsDisconnected checks that a client that stops reading is dropped once its queued output
// passes MaxOutboundBytes.
func TestSlowConsumerIsDisconnected(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.MaxOutboundBytes = 256 << 10 }))
	good := dial(t, s.Addr, wireclient.Options{})
	big := strings.Repeat("b", 200<<10)
	create(t, good, "/big", big, proto.ModePersistent)

	r := rawDial(t, s.Addr)
	_ = r.nc.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4 << 10)
	resp := r.connect(proto.ConnectRequest{TimeOut: 30000})
	if resp == nil {
		t.Fatal("no session")
	}
	// Ask for far more than the socket buffers and the outbound cap hold,
	// and never read: the server must drop this connection, not buffer it.
	for i := 0; i < 200; i++ {
		req := &proto.RequestHeader{Xid: int32(i + 1), Op: proto.OpGetData}
		if err := r.trySend(req, &proto.PathWatchRequest{Path: "/big"}); err != nil {
			break // dropped already, which is the point
		}
	}
	waitFor(t, "the slow consumer to be dropped", func() bool {
		return !strings.Contains(fourLetter(t, s.Addr, "cons"), "sid=0x"+hexID(resp.SessionID))
	})
	if d, _ := getData(t, good, "/big", false); d != big {
		t.Fatal("data damaged")
	}
}
