package wireclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/proto"
)

// events records what a Session reports.
type events chan Event

// newSession connects to connect and closes the session when the test ends.
func newSession(t *testing.T, connect string) (*Session, events) {
	t.Helper()
	ch := make(events, 64)
	s, err := NewSession(testCtx(t), connect, SessionOptions{Options: Options{SessionTimeout: 10 * time.Second},
		OnEvent: func(e Event) { ch <- e }})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	ch.expect(t, proto.EventNone, StateSyncConnected, "")
	return s, ch
}

// expect checks the next event.
func (ch events) expect(t *testing.T, typ proto.EventType, state int32, path string) {
	t.Helper()
	select {
	case e := <-ch:
		if e.Type != typ || e.State != state || e.Path != path {
			t.Fatalf("event %+v, want type %d state %d path %q", e, typ, state, path)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no event (want type %d state %d path %q)", typ, state, path)
	}
}

func proxy(t *testing.T, addr string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// mustDo runs one request on a plain connection (the other client of a test).
func mustDo(t *testing.T, c *Conn, op proto.OpCode, req proto.Record) {
	t.Helper()
	if _, err := c.Do(testCtx(t), op, req, nil); err != nil && !errors.Is(err, proto.ErrNodeExists) {
		t.Fatalf("%s: %v", op, err)
	}
}

// againstServers runs check against in-process herd and the shared ZooKeeper.
func againstServers(t *testing.T, check func(t *testing.T, addr, prefix string)) {
	t.Run("herd", func(t *testing.T) { check(t, herdtest.Start(t).Addr, "/t") })
	t.Run("zookeeper", func(t *testing.T) {
		check(t, peerAddr(t), fmt.Sprintf("/t%d", time.Now().UnixNano()))
	})
}

// TestSessionSurvivesServerRestart stops and restarts the server within the
// session timeout: the session keeps its ephemeral node, its one-shot and
// persistent recursive watches (SetWatches2) and its auth.
func TestSessionSurvivesServerRestart(t *testing.T) {
	t.Run("herd", func(t *testing.T) {
		srv := herdtest.Start(t)
		testSurvivesRestart(t, srv.Addr, srv.Restart)
	})
	t.Run("zookeeper", func(t *testing.T) {
		zkpeer.Require(t, zkpeer.Jar)
		zk := zkpeer.StartT(t, zkpeer.Options{})
		testSurvivesRestart(t, zk.Addr, func() { zk.Stop(); zk.RestartT(t) })
	})
}

func testSurvivesRestart(t *testing.T, addr string, restart func()) {
	ctx := testCtx(t)
	s, ev := newSession(t, addr)
	if _, err := s.Create(ctx, "/eph", nil, proto.OpenACLUnsafe, proto.ModeEphemeral, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/w", "/r"} {
		if _, err := s.Create(ctx, p, nil, proto.OpenACLUnsafe, proto.ModePersistent, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Get(ctx, "/w", true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWatch(ctx, "/r", proto.AddWatchPersistentRecursive); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAuth(ctx, "digest", []byte("ann:pw")); err != nil {
		t.Fatal(err)
	}

	restart()
	ev.expect(t, proto.EventNone, StateDisconnected, "")
	ev.expect(t, proto.EventNone, StateSyncConnected, "")

	other := dial(t, addr, Options{})
	defer other.Drop()
	mustDo(t, other, proto.OpSetData, &proto.SetDataRequest{Path: "/w", Data: []byte("x"), Version: -1})
	ev.expect(t, proto.EventNodeDataChanged, StateSyncConnected, "/w")
	mustDo(t, other, proto.OpCreate, &proto.CreateRequest{Path: "/r/a", ACL: proto.OpenACLUnsafe})
	ev.expect(t, proto.EventNodeCreated, StateSyncConnected, "/r/a")
	if eph, err := s.GetEphemerals(ctx, "/"); err != nil || !slices.Equal(eph, []string{"/eph"}) {
		t.Fatalf("ephemerals after restart %v %v", eph, err)
	}
	who, err := s.WhoAmI(ctx)
	if err != nil || !slices.Contains(who, proto.ClientInfo{AuthScheme: "digest", User: "ann"}) {
		t.Fatalf("whoami after restart %v %v", who, err)
	}
	if s.State() != Connected {
		t.Fatalf("state %s", s.State())
	}
}

// TestSessionFailsOverToTheNextAddress cuts the connection to the first of
// two addresses and refuses new ones there: the session moves to the second
// with its watch.
func TestSessionFailsOverToTheNextAddress(t *testing.T) {
	againstServers(t, func(t *testing.T, addr, prefix string) {
		ctx := testCtx(t)
		p1, p2 := proxy(t, addr), proxy(t, addr)
		s, ev := newSession(t, p1.Addr()+","+p2.Addr())
		path := prefix + "-failover"
		if _, err := s.Create(ctx, path, nil, proto.OpenACLUnsafe, proto.ModeEphemeral, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, path, true); err != nil {
			t.Fatal(err)
		}
		if p1.Conns() != 1 || p2.Accepted() != 0 {
			t.Fatalf("connections: first %d, second %d; want the first address used", p1.Conns(), p2.Accepted())
		}
		p1.Refuse(true)
		p1.Cut()
		ev.expect(t, proto.EventNone, StateDisconnected, "")
		ev.expect(t, proto.EventNone, StateSyncConnected, "")
		if p2.Conns() != 1 {
			t.Fatalf("second address has %d connections", p2.Conns())
		}
		other := dial(t, addr, Options{})
		defer other.Drop()
		mustDo(t, other, proto.OpSetData, &proto.SetDataRequest{Path: path, Data: []byte("x"), Version: -1})
		ev.expect(t, proto.EventNodeDataChanged, StateSyncConnected, path)
		if err := s.Delete(ctx, path, -1); err != nil {
			t.Fatalf("delete on the moved session: %v", err)
		}
	})
}

// TestSessionExpiryIsReported expires the session while the client cannot
// reach the server: on reconnecting it reports Expired, and requests fail
// with ErrSessionExpired.
func TestSessionExpiryIsReported(t *testing.T) {
	againstServers(t, func(t *testing.T, addr, _ string) {
		ctx := testCtx(t)
		p := proxy(t, addr)
		s, ev := newSession(t, p.Addr())
		s.mu.Lock()
		pw := s.conn.Passwd()
		s.mu.Unlock()
		p.Refuse(true)
		p.Cut()
		ev.expect(t, proto.EventNone, StateDisconnected, "")
		// Attach the session from elsewhere and close it: ZooKeeper's own way
		// to expire a session in tests.
		if err := dial(t, addr, Options{SessionID: s.SessionID(), Passwd: pw}).Close(ctx); err != nil {
			t.Fatal(err)
		}
		p.Refuse(false)
		ev.expect(t, proto.EventNone, StateExpired, "")
		if s.State() != Closed {
			t.Fatalf("state %s, want CLOSED", s.State())
		}
		if _, _, err := s.Get(ctx, "/", false); !errors.Is(err, ErrSessionExpired) || !errors.Is(err, proto.ErrSessionExpired) {
			t.Fatalf("Get after expiry: %v", err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		ev.expect(t, proto.EventNone, StateClosed, "")
	})
}

// TestSessionChroot runs a session under /app: paths in requests, replies,
// events and the watches re-registered after a reconnect are the caller's.
func TestSessionChroot(t *testing.T) {
	ctx := testCtx(t)
	srv := herdtest.Start(t)
	other := dial(t, srv.Addr, Options{})
	defer other.Drop()
	mustDo(t, other, proto.OpCreate, &proto.CreateRequest{Path: "/app", ACL: proto.OpenACLUnsafe})
	p := proxy(t, srv.Addr)
	s, ev := newSession(t, p.Addr()+"/app")
	if got, err := s.Create(ctx, "/x", nil, proto.OpenACLUnsafe, proto.ModePersistentSequential, 0); err != nil || got != "/x0000000000" {
		t.Fatalf("create under chroot = %q %v", got, err)
	}
	if kids, _, err := s.Children(ctx, "/", true); err != nil || !slices.Equal(kids, []string{"x0000000000"}) {
		t.Fatalf("children of the chroot %v %v", kids, err)
	}
	p.Cut()
	ev.expect(t, proto.EventNone, StateDisconnected, "")
	ev.expect(t, proto.EventNone, StateSyncConnected, "")
	mustDo(t, other, proto.OpCreate, &proto.CreateRequest{Path: "/app/y", ACL: proto.OpenACLUnsafe})
	ev.expect(t, proto.EventNodeChildrenChanged, StateSyncConnected, "/")
}

// TestSessionMovesOnAfterSessionMovedAndRefusal plays a cluster's refusals: the
// first server answers sessionMoved and then drops the connection mid-request,
// the second closes at the handshake (its data is older than the client's
// lastZxidSeen), the third takes the session with the same id, password and
// lastZxidSeen.
func TestSessionMovesOnAfterSessionMovedAndRefusal(t *testing.T) {
	pw := []byte("0123456789abcdef")
	first := fakeServer(t, func(nc net.Conn) {
		if h, err := readRequest(nc); err == nil {
			reply(nc, h.Xid, 5, proto.ErrSessionMoved, nil)
		}
		_, _ = readRequest(nc) // and hang up without a reply
	}, proto.ConnectResponse{TimeOut: 9000, SessionID: 42, Passwd: pw})
	seen := make(chan proto.ConnectRequest, 2)
	refuser := fakeListener(t, func(nc net.Conn) { seen <- readConnect(nc) })
	third := fakeListener(t, func(nc net.Conn) {
		seen <- readConnect(nc)
		var e proto.Encoder
		(&proto.ConnectResponse{TimeOut: 9000, SessionID: 42, Passwd: pw}).Encode(&e)
		_, _ = nc.Write(proto.AppendFrame(nil, e.Bytes()))
		if h, err := readRequest(nc); err == nil {
			reply(nc, h.Xid, 6, 0, nil)
		}
		_, _ = readRequest(nc)
	})
	ctx := testCtx(t)
	s, ev := newSession(t, first+","+refuser+","+third)
	if err := s.Delete(ctx, "/a", -1); !errors.Is(err, proto.ErrSessionMoved) {
		t.Fatalf("first request: %v, want sessionMoved", err)
	}
	if err := s.Delete(ctx, "/a", -1); !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("request cut off: %v, want connection loss", err)
	}
	ev.expect(t, proto.EventNone, StateDisconnected, "")
	ev.expect(t, proto.EventNone, StateSyncConnected, "")
	for range 2 {
		if r := <-seen; r.SessionID != 42 || string(r.Passwd) != string(pw) || r.LastZxidSeen != 5 {
			t.Fatalf("re-attach sent %+v, want session 42, its password, lastZxidSeen 5", r)
		}
	}
	if err := s.Delete(ctx, "/a", -1); err != nil {
		t.Fatalf("request after moving: %v", err)
	}
}
