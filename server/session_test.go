package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// tick is the tickTime of the session tests: timeouts clamp to [200ms, 2s].
const tick = 100 * time.Millisecond

// TestSessionTimeoutNegotiation checks that a requested timeout is clamped to [2,20]×tickTime, on create and
// on re-attach.
func TestSessionTimeoutNegotiation(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	for _, tc := range []struct{ ask, want time.Duration }{
		{50 * time.Millisecond, 2 * tick}, // below min: 2×tickTime
		{time.Hour, 20 * tick},            // above max: 20×tickTime
		{700 * time.Millisecond, 700 * time.Millisecond},
	} {
		c := dial(t, s.Addr, wireclient.Options{SessionTimeout: tc.ask})
		if c.Timeout() != tc.want {
			t.Errorf("asked %v: negotiated %v, want %v", tc.ask, c.Timeout(), tc.want)
		}
		// A re-attach negotiates again with the timeout it asks for.
		again := dial(t, s.Addr, wireclient.Options{SessionTimeout: 10 * time.Millisecond,
			SessionID: c.SessionID(), Passwd: c.Passwd()})
		if again.SessionID() != c.SessionID() || again.Timeout() != 2*tick {
			t.Errorf("re-attach: session 0x%x timeout %v", again.SessionID(), again.Timeout())
		}
	}
}

// TestSilentClientExpires drops a client without closeSession: after its timeout its ephemerals go (with
// watch events elsewhere) and a re-attach gets the expired ConnectResponse.
func TestSilentClientExpires(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	watcher := dial(t, s.Addr, wireclient.Options{SessionTimeout: 2 * time.Second})
	create(t, watcher, "/p", "", proto.ModePersistent)

	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: 200 * time.Millisecond})
	// The create touches the session, so it cannot expire before start+200ms.
	start := time.Now()
	create(t, c, "/p/e", "x", proto.ModeEphemeral)
	id, pw := c.SessionID(), c.Passwd()
	if !exists(t, watcher, "/p/e", true) {
		t.Fatal("ephemeral not visible")
	}
	children(t, watcher, "/p", true)

	c.Drop() // the client crashes: no closeSession, no pings
	expectEvents(t, watcher,
		wireclient.Event{Type: proto.EventNodeDeleted, Path: "/p/e"},
		wireclient.Event{Type: proto.EventNodeChildrenChanged, Path: "/p"})
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("session expired after %v, before its 200ms timeout", d)
	}
	if exists(t, watcher, "/p/e", false) {
		t.Fatal("ephemeral of an expired session survives")
	}
	r := rawDial(t, s.Addr)
	r.expectExpired(r.connect(proto.ConnectRequest{TimeOut: 200, SessionID: id, Passwd: pw}))
}

// TestConnectedButSilentClientIsClosed keeps a socket open but silent: on expiry the server closes it without
// a message.
func TestConnectedButSilentClientIsClosed(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	r := rawDial(t, s.Addr)
	resp := r.connect(proto.ConnectRequest{TimeOut: 200})
	if resp == nil || resp.SessionID == 0 || resp.TimeOut != 200 {
		t.Fatalf("connect: %+v", resp)
	}
	// The socket stays open but nothing is sent: on expiry the server closes
	// it without a message.
	r.expectEOF()
	r2 := rawDial(t, s.Addr)
	r2.expectExpired(r2.connect(proto.ConnectRequest{TimeOut: 200, SessionID: resp.SessionID, Passwd: resp.Passwd}))
}

// TestReattachKeepsEphemeralsAndClosesOldConnection re-attaches a live session on a new connection: same id
// and password, ephemerals kept, the old connection closed.
func TestReattachKeepsEphemeralsAndClosesOldConnection(t *testing.T) {
	t.Parallel() // mostly waits; no restart, so no port reuse
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	old := dial(t, s.Addr, wireclient.Options{SessionTimeout: 500 * time.Millisecond})
	create(t, old, "/e", "", proto.ModeEphemeral)
	watcher := dial(t, s.Addr, wireclient.Options{SessionTimeout: 2 * time.Second})
	exists(t, watcher, "/e", true)

	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: 500 * time.Millisecond,
		SessionID: old.SessionID(), Passwd: old.Passwd(), LastZxid: old.LastZxid()})
	if c.SessionID() != old.SessionID() || string(c.Passwd()) != string(old.Passwd()) {
		t.Fatalf("re-attach got session 0x%x", c.SessionID())
	}
	waitClosed(t, old) // CLIENT_RECONNECT: the previous connection is closed
	// Outlive the timeout several times over: the new connection's pings keep
	// the session, and so the ephemeral, alive.
	expectNoEvent(t, watcher, time.Second)
	if !exists(t, c, "/e", false) {
		t.Fatal("ephemeral lost after re-attach")
	}
	var eph proto.GetEphemeralsResponse
	if _, err := c.Do(testCtx(t), proto.OpGetEphemerals, &proto.PathRequest{Path: "/"}, &eph); err != nil ||
		len(eph.Paths) != 1 || eph.Paths[0] != "/e" {
		t.Fatalf("getEphemerals: %v %v", eph.Paths, err)
	}
}

// TestReattachWithWrongPasswordIsExpired checks that a bad password or an unknown id gets the expired reply,
// leaving the real session alone.
func TestReattachWithWrongPasswordIsExpired(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second})
	create(t, c, "/e", "", proto.ModeEphemeral)
	bad := c.Passwd()
	bad[0] ^= 0xff
	for _, pw := range [][]byte{bad, nil, make([]byte, 3)} {
		r := rawDial(t, s.Addr)
		r.expectExpired(r.connect(proto.ConnectRequest{TimeOut: 1000, SessionID: c.SessionID(), Passwd: pw}))
	}
	// The expired reply mirrors the request's optional readOnly byte (§2.1).
	for _, ro := range []bool{false, true} {
		r := rawDial(t, s.Addr)
		resp := r.connect(proto.ConnectRequest{TimeOut: 1000, SessionID: c.SessionID(), Passwd: bad, HasReadOnly: ro})
		if resp == nil || resp.HasReadOnly != ro || resp.ReadOnly {
			t.Fatalf("readOnly byte sent=%v: response %+v", ro, resp)
		}
		r.expectExpired(resp)
	}
	// An unknown session is expired too.
	r := rawDial(t, s.Addr)
	r.expectExpired(r.connect(proto.ConnectRequest{TimeOut: 1000, SessionID: c.SessionID() + 12345, Passwd: c.Passwd()}))
	// The failed attempts neither closed the real connection nor the session.
	if !exists(t, c, "/e", false) {
		t.Fatal("a wrong password hurt the session")
	}
	_, err := wireclient.Dial(testCtx(t), s.Addr, wireclient.Options{SessionID: c.SessionID(), Passwd: bad})
	if !errors.Is(err, wireclient.ErrSessionExpired) {
		t.Fatalf("wireclient with a wrong password: %v", err)
	}
}

// TestCloseSessionRepliesThenCloses checks closeSession: a reply with err 0, then close, the ephemerals
// deleted in one transaction, and no way back.
func TestCloseSessionRepliesThenCloses(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	watcher := dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second})
	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: 2 * time.Second})
	create(t, c, "/e1", "", proto.ModeEphemeral)
	create(t, c, "/e2", "", proto.ModeEphemeral)
	exists(t, watcher, "/e1", true)
	exists(t, watcher, "/e2", true)

	hdr, err := c.Do(testCtx(t), proto.OpCloseSession, nil, nil)
	if err != nil || hdr.Err != proto.ErrOK {
		t.Fatalf("closeSession: %+v %v", hdr, err)
	}
	waitClosed(t, c)
	expectEvents(t, watcher,
		wireclient.Event{Type: proto.EventNodeDeleted, Path: "/e1"},
		wireclient.Event{Type: proto.EventNodeDeleted, Path: "/e2"})
	// Both ephemerals went in one transaction.
	if _, st := getData(t, watcher, "/", false); st.Pzxid != hdr.Zxid {
		t.Errorf("root pzxid %d, closeSession zxid %d", st.Pzxid, hdr.Zxid)
	}
	r := rawDial(t, s.Addr)
	r.expectExpired(r.connect(proto.ConnectRequest{TimeOut: 1000, SessionID: c.SessionID(), Passwd: c.Passwd()}))

	// On a raw connection: the reply (xid echoed, err 0) comes, then EOF.
	r = rawDial(t, s.Addr)
	if resp := r.connect(proto.ConnectRequest{TimeOut: 1000}); resp == nil || resp.SessionID == 0 {
		t.Fatal("no session")
	}
	r.send(&proto.RequestHeader{Xid: 7, Op: proto.OpCloseSession})
	h, _, err := r.reply()
	if err != nil || h.Xid != 7 || h.Err != proto.ErrOK {
		t.Fatalf("closeSession reply %+v %v", h, err)
	}
	r.expectEOF()
}

// TestClientAheadOfServerIsRefused checks that lastZxidSeen above the server's zxid closes the connection
// with no reply, before any session check.
func TestClientAheadOfServerIsRefused(t *testing.T) {
	s := herdtest.Start(t)
	c := dial(t, s.Addr, wireclient.Options{})
	create(t, c, "/a", "", proto.ModePersistent)
	last := s.Server().LastZxid()

	r := rawDial(t, s.Addr)
	if resp := r.connect(proto.ConnectRequest{TimeOut: 30000, LastZxidSeen: last + 1}); resp != nil {
		t.Fatalf("client ahead got a ConnectResponse %+v", resp)
	}
	// Even a valid session is refused without a reply: the check comes first.
	r = rawDial(t, s.Addr)
	if resp := r.connect(proto.ConnectRequest{TimeOut: 30000, LastZxidSeen: last + 1, SessionID: c.SessionID(), Passwd: c.Passwd()}); resp != nil {
		t.Fatalf("client ahead got a ConnectResponse %+v", resp)
	}
	// Equal is fine.
	c2 := dial(t, s.Addr, wireclient.Options{LastZxid: last, SessionID: c.SessionID(), Passwd: c.Passwd()})
	if c2.SessionID() != c.SessionID() {
		t.Fatal("re-attach at the server's zxid failed")
	}
}

// TestFailedWriteConsumesZxid checks that a failed write is a transaction: its reply carries a new zxid and
// it changes nothing.
func TestFailedWriteConsumesZxid(t *testing.T) {
	s := herdtest.Start(t)
	c := dial(t, s.Addr, wireclient.Options{})
	ctx := testCtx(t)
	h1, err := c.Do(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/a", ACL: proto.OpenACLUnsafe}, &proto.CreateResponse{})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := c.Do(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/a", ACL: proto.OpenACLUnsafe}, nil)
	if !errors.Is(err, proto.ErrNodeExists) {
		t.Fatalf("second create: %v", err)
	}
	h3, err := c.Do(ctx, proto.OpSetData, &proto.SetDataRequest{Path: "/a", Version: 42}, nil)
	if !errors.Is(err, proto.ErrBadVersion) {
		t.Fatalf("bad-version set: %v", err)
	}
	h4, err := c.Do(ctx, proto.OpDelete, &proto.DeleteRequest{Path: "/missing", Version: -1}, nil)
	if !errors.Is(err, proto.ErrNoNode) {
		t.Fatalf("delete missing: %v", err)
	}
	if !(h1.Zxid < h2.Zxid && h2.Zxid < h3.Zxid && h3.Zxid < h4.Zxid) {
		t.Fatalf("failed writes did not take zxids: %d %d %d %d", h1.Zxid, h2.Zxid, h3.Zxid, h4.Zxid)
	}
	if got := s.Server().LastZxid(); got < h4.Zxid {
		t.Fatalf("server lastZxid %d < failed write's %d", got, h4.Zxid)
	}
	// A read's header carries the last zxid, which includes the failed writes.
	hr, err := c.Do(ctx, proto.OpExists, &proto.PathWatchRequest{Path: "/a"}, &proto.StatResponse{})
	if err != nil || hr.Zxid < h4.Zxid {
		t.Fatalf("read zxid %d after failed write %d (%v)", hr.Zxid, h4.Zxid, err)
	}
	// The failed writes changed nothing.
	if _, st := getData(t, c, "/a", false); st.Version != 0 || st.Mzxid != h1.Zxid {
		t.Fatalf("stat after failed writes %+v", st)
	}
}

// TestSessionSurvivesRestartWithinTimeout restarts the node and re-attaches within the timeout: the session
// and its ephemeral survive.
func TestSessionSurvivesRestartWithinTimeout(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: 600 * time.Millisecond})
	create(t, c, "/e", "", proto.ModeEphemeral)
	id, pw, last := c.SessionID(), c.Passwd(), c.LastZxid()
	before := s.Server().LastZxid()

	s.Restart()
	waitClosed(t, c)
	if got := s.Server().LastZxid(); got < before {
		t.Fatalf("zxid went backwards across restart: %d < %d", got, before)
	}
	c2 := dial(t, s.Addr, wireclient.Options{SessionTimeout: 600 * time.Millisecond, SessionID: id, Passwd: pw, LastZxid: last})
	if c2.SessionID() != id {
		t.Fatalf("re-attach after restart: session 0x%x", c2.SessionID())
	}
	if !exists(t, c2, "/e", false) {
		t.Fatal("ephemeral lost across restart")
	}
	// Kept alive by c2's pings for longer than the timeout.
	other := dial(t, s.Addr, wireclient.Options{SessionTimeout: 2 * time.Second})
	exists(t, other, "/e", true)
	expectNoEvent(t, other, time.Second)
}

// TestSessionExpiresAfterRestartWithoutClient restarts the node with a session whose client never returns: it
// is recovered, then expires.
func TestSessionExpiresAfterRestartWithoutClient(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second})
	create(t, c, "/p", "", proto.ModePersistent)
	create(t, c, "/p/e", "", proto.ModeEphemeral)
	id, pw := c.SessionID(), c.Passwd()
	c.Drop()

	s.Restart()
	// Recovered from the log with a fresh deadline (a full timeout from the
	// start), the session still holds its ephemeral...
	w := dial(t, s.Addr, wireclient.Options{SessionTimeout: 2 * time.Second})
	if !exists(t, w, "/p/e", true) {
		t.Fatal("session not recovered by the restart")
	}
	children(t, w, "/p", true)
	// ...until it expires because its client never came back.
	expectEvents(t, w,
		wireclient.Event{Type: proto.EventNodeDeleted, Path: "/p/e"},
		wireclient.Event{Type: proto.EventNodeChildrenChanged, Path: "/p"})
	r := rawDial(t, s.Addr)
	r.expectExpired(r.connect(proto.ConnectRequest{TimeOut: 1000, SessionID: id, Passwd: pw}))
}

// TestZxidsNeverGoBackwardsAcrossRestarts checks that every restart resumes at or above the highest zxid a
// client saw.
func TestZxidsNeverGoBackwardsAcrossRestarts(t *testing.T) {
	s := herdtest.Start(t)
	var seen int64
	for i := 0; i < 3; i++ {
		c := dial(t, s.Addr, wireclient.Options{LastZxid: seen})
		hdr, err := c.Do(testCtx(t), proto.OpCreate,
			&proto.CreateRequest{Path: "/n", ACL: proto.OpenACLUnsafe, Flags: proto.ModePersistentSequential}, &proto.CreateResponse{})
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Zxid <= seen {
			t.Fatalf("round %d: write zxid %d not above %d seen before", i, hdr.Zxid, seen)
		}
		seen = c.LastZxid()
		c.Drop()
		s.Restart()
		if got := s.Server().LastZxid(); got < seen {
			t.Fatalf("round %d: restart went back to zxid %d < %d", i, got, seen)
		}
	}
	// A client that saw the highest zxid can still connect (not "ahead").
	dial(t, s.Addr, wireclient.Options{LastZxid: seen})
}
