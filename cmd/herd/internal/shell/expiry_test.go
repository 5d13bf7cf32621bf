package shell

import (
	"net"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// fakeZooKeeper serves one handshake per scripted connection: a session that
// is accepted and then hung up on, then a re-attach that is refused as expired.
func fakeZooKeeper(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for _, resp := range []proto.ConnectResponse{
			{TimeOut: 30000, SessionID: 0x77, Passwd: make([]byte, 16)},
			{Passwd: make([]byte, 16)}, // timeout 0, session 0: expired
		} {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			if _, err := proto.ReadFrame(nc, nil, 0); err == nil {
				var e proto.Encoder
				resp.Encode(&e)
				_, _ = nc.Write(proto.AppendFrame(nil, e.Bytes()))
			}
			nc.Close()
		}
	}()
	return l.Addr().String()
}

func TestSessionExpiryIsReported(t *testing.T) {
	ctx := testCtx(t)
	events := make(chan Event, 8)
	c, err := DialWire(ctx, fakeZooKeeper(t), DialOptions{}, func(e Event) { events <- e })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var states []KeeperState
	for len(states) < 3 {
		select {
		case e := <-events:
			states = append(states, e.State)
		case <-ctx.Done():
			t.Fatalf("events so far %v", states)
		}
	}
	if states[0] != StateSyncConnected || states[1] != StateDisconnected || states[2] != StateExpired {
		t.Fatalf("states %v, want SyncConnected, Disconnected, Expired", states)
	}
	if c.State() != stateClosed {
		t.Fatalf("state %s", c.State())
	}
	_, _, err = c.Get(ctx, "/x", false)
	if msg := describe(err, "/x").Error(); msg != "KeeperErrorCode = Session expired for /x" {
		t.Fatalf("after expiry: %q", msg)
	}
}
