package server_test

import (
	"fmt"
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

// TestSlowConsumerIsPaused checks that a client that stops reading is not
// buffered for: once its queued output reaches MaxOutboundBytes the server
// stops answering it (and so reading from it), while other clients are served.
func TestSlowConsumerIsPaused(t *testing.T) {
	const capBytes = 256 << 10
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.MaxOutboundBytes = capBytes }))
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
	// and never read.
	go func() {
		for i := 0; i < 400; i++ {
			req := &proto.RequestHeader{Xid: int32(i + 1), Op: proto.OpGetData}
			if err := r.trySend(req, &proto.PathWatchRequest{Path: "/big"}); err != nil {
				return // closed at test end
			}
		}
	}()
	waitFor(t, "the slow consumer to be paused", func() bool {
		_, _, paused := s.Server().BudgetStats()
		return paused > 0
	})
	if _, held, _ := s.Server().BudgetStats(); held > int64(capBytes+2*len(big)) {
		t.Fatalf("server holds %d bytes for a client capped at %d", held, capBytes)
	}
	if d, _ := getData(t, good, "/big", false); d != big {
		t.Fatal("data damaged")
	}
	r.nc.Close()
}

// TestNotificationFloodDisconnects checks that watch notifications, which
// cannot wait, close a client that does not read them once its queue passes
// 8 × MaxOutboundBytes.
func TestNotificationFloodDisconnects(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.MaxOutboundBytes = 4 << 10 }))
	good := dial(t, s.Addr, wireclient.Options{})
	create(t, good, "/n", "", proto.ModePersistent)
	const n = 3000
	long := strings.Repeat("p", 6000) // more than the socket buffers hold in all
	r := rawDial(t, s.Addr)
	_ = r.nc.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4 << 10)
	resp := r.connect(proto.ConnectRequest{TimeOut: 30000})
	if resp == nil {
		t.Fatal("no session")
	}
	for i := 0; i < n; i++ {
		r.send(&proto.RequestHeader{Xid: int32(i + 1), Op: proto.OpExists},
			&proto.PathWatchRequest{Path: fmt.Sprintf("/n/%s%d", long, i), Watch: true})
		if _, _, err := r.reply(); err != nil {
			t.Fatal(err)
		}
	}
	// Now stop reading and fire every watch.
	for i := 0; i < n; i += 100 {
		var ops []proto.MultiOp
		for j := i; j < i+100; j++ {
			ops = append(ops, proto.MultiOp{Op: proto.OpCreate, Create: &proto.CreateTTLRequest{
				Path: fmt.Sprintf("/n/%s%d", long, j), ACL: proto.OpenACLUnsafe}})
		}
		if _, err := good.Do(testCtx(t), proto.OpMulti, &proto.MultiRequest{Ops: ops}, &proto.MultiResponse{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the flooded client to be dropped", func() bool {
		return !strings.Contains(fourLetter(t, s.Addr, "cons"), "sid=0x"+hexID(resp.SessionID))
	})
}
