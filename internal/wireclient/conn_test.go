package wireclient

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/herd-io/herd/server/proto"
)

func TestCreateGetWatchAgainstZooKeeper(t *testing.T) {
	addr := peerAddr(t)
	ctx := testCtx(t)
	c := dial(t, addr, Options{SessionTimeout: 10 * time.Second, SendReadOnlyByte: true})
	defer c.Close(ctx)
	if c.SessionID() == 0 || len(c.Passwd()) != 16 || c.Timeout() != 10*time.Second {
		t.Fatalf("session %x passwd %d timeout %v", c.SessionID(), len(c.Passwd()), c.Timeout())
	}

	var cr proto.Create2Response
	hdr, err := c.Do(ctx, proto.OpCreate2, &proto.CreateRequest{Path: "/wc1", Data: []byte("v1"), ACL: proto.OpenACLUnsafe}, &cr)
	if err != nil {
		t.Fatalf("create2: %v", err)
	}
	if cr.Path != "/wc1" || cr.Stat.Czxid != hdr.Zxid || cr.Stat.DataLength != 2 || c.LastZxid() != hdr.Zxid {
		t.Fatalf("create2 = %+v hdr %+v last %d", cr, hdr, c.LastZxid())
	}

	_, err = c.Do(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/wc1", ACL: proto.OpenACLUnsafe}, &proto.CreateResponse{})
	if !errors.Is(err, proto.ErrNodeExists) {
		t.Fatalf("second create: %v, want NodeExists", err)
	}

	var gd proto.GetDataResponse
	if _, err := c.Do(ctx, proto.OpGetData, &proto.PathWatchRequest{Path: "/wc1", Watch: true}, &gd); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gd.Data, []byte("v1")) {
		t.Fatalf("data %q", gd.Data)
	}
	if _, err := c.Do(ctx, proto.OpSetData, &proto.SetDataRequest{Path: "/wc1", Data: []byte("v2"), Version: -1}, &proto.StatResponse{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-c.Events():
		if ev.Type != proto.EventNodeDataChanged || ev.Path != "/wc1" || ev.State != proto.StateSyncConnected {
			t.Fatalf("event %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no watch event")
	}

	var who proto.WhoAmIResponse
	if _, err := c.Do(ctx, proto.OpWhoAmI, nil, &who); err != nil || len(who.Infos) != 1 || who.Infos[0].AuthScheme != "ip" {
		t.Fatalf("whoami %+v %v", who, err)
	}
	if _, err := c.Do(ctx, proto.OpDelete, &proto.DeleteRequest{Path: "/wc1", Version: -1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := c.Do(ctx, proto.OpExists, &proto.PathWatchRequest{Path: "/"}, &proto.StatResponse{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
}

func TestReattachAfterDropKeepsEphemerals(t *testing.T) {
	addr := peerAddr(t)
	ctx := testCtx(t)
	c := dial(t, addr, Options{SessionTimeout: 10 * time.Second})
	if _, err := c.Do(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/wc-eph", ACL: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral}, &proto.CreateResponse{}); err != nil {
		t.Fatal(err)
	}
	id, pw, last := c.SessionID(), c.Passwd(), c.LastZxid()
	c.Drop()

	c2 := dial(t, addr, Options{SessionTimeout: 10 * time.Second, SessionID: id, Passwd: pw, LastZxid: last})
	defer c2.Close(ctx)
	if c2.SessionID() != id {
		t.Fatalf("re-attached to %x, want %x", c2.SessionID(), id)
	}
	var eph proto.GetEphemeralsResponse
	if _, err := c2.Do(ctx, proto.OpGetEphemerals, &proto.PathRequest{Path: "/"}, &eph); err != nil {
		t.Fatal(err)
	}
	if len(eph.Paths) != 1 || eph.Paths[0] != "/wc-eph" {
		t.Fatalf("ephemerals %v", eph.Paths)
	}
}

func TestWrongPasswordIsExpired(t *testing.T) {
	addr := peerAddr(t)
	ctx := testCtx(t)
	c := dial(t, addr, Options{SessionTimeout: 10 * time.Second})
	defer c.Close(ctx)
	_, err := Dial(ctx, addr, Options{SessionID: c.SessionID(), Passwd: make([]byte, 16)})
	if !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("Dial with wrong password: %v, want ErrSessionExpired", err)
	}
}

func TestCallerPingWithoutPinger(t *testing.T) {
	ctx := testCtx(t)
	c := dial(t, peerAddr(t), Options{SessionTimeout: 10 * time.Second, NoPings: true})
	defer c.Close(ctx)
	hdr, body, err := c.DoXid(ctx, proto.XidPing, proto.OpPing, nil)
	if err != nil || hdr.Xid != proto.XidPing || len(body) != 0 {
		t.Fatalf("ping = %+v %d bytes %v", hdr, len(body), err)
	}
}

// TestDialGivesUpOnASilentServer: a server that accepts the TCP connection
// but never answers the ConnectRequest (one still starting, or frozen) costs
// the dialer HandshakeTimeout, then connection loss, so a session tries the
// next server instead of hanging.
func TestDialGivesUpOnASilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if nc, err := l.Accept(); err == nil {
			accepted <- nc
		}
	}()
	_, err = Dial(context.Background(), l.Addr().String(), Options{HandshakeTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("Dial to a silent server: %v, want ErrConnectionLoss", err)
	}
	(<-accepted).Close()
}
