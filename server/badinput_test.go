package server_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

const smallMaxBuffer = 4096

// TestOversizedFrameClosesOnlyThatConnection sends a frame over jute.maxbuffer: only that connection closes;
// data and other clients are untouched.
func TestOversizedFrameClosesOnlyThatConnection(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.MaxBuffer = smallMaxBuffer }))
	good := dial(t, s.Addr, wireclient.Options{})
	create(t, good, "/data", "intact", proto.ModePersistent)
	exists(t, good, "/data", true)

	bad := dial(t, s.Addr, wireclient.Options{})
	create(t, bad, "/e", "", proto.ModeEphemeral)
	// A setData whose frame is over jute.maxbuffer: the server closes the
	// connection without a reply (NIOServerCnxn "Len error").
	big := &proto.SetDataRequest{Path: "/data", Data: make([]byte, smallMaxBuffer), Version: -1}
	_, err := bad.Do(testCtx(t), proto.OpSetData, big, nil)
	if !errors.Is(err, wireclient.ErrConnectionLoss) {
		t.Fatalf("oversized request: %v", err)
	}
	// Just under the limit is fine.
	okData := strings.Repeat("y", smallMaxBuffer-100)
	setData(t, good, "/data", okData)
	expectEvents(t, good, wireclient.Event{Type: proto.EventNodeDataChanged, Path: "/data"})
	if d, st := getData(t, good, "/data", false); d != okData || st.Version != 1 {
		t.Fatalf("data after the bad frame: %d bytes, version %d", len(d), st.Version)
	}
	// The bad client's session is still alive (only its connection closed).
	if !exists(t, good, "/e", false) {
		t.Fatal("ephemeral of the bad connection's session vanished")
	}
}

// TestMalformedFramesCloseConnection sends broken frames before and after the handshake: each closes its
// connection, while an undecodable body only gets -5.
func TestMalformedFramesCloseConnection(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.MaxBuffer = smallMaxBuffer }))
	good := dial(t, s.Addr, wireclient.Options{})
	create(t, good, "/data", "intact", proto.ModePersistent)

	lengthOnly := func(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
	for name, tc := range map[string]struct {
		connect bool   // handshake first
		bytes   []byte // then send this
	}{
		"negative length before connect": {false, lengthOnly(-1)},
		"huge connect frame":             {false, lengthOnly(smallMaxBuffer + 1)},
		"short connect request":          {false, proto.AppendFrame(nil, []byte{0, 0, 0, 0, 1})},
		"negative length":                {true, lengthOnly(-5)},
		"over maxBuffer":                 {true, lengthOnly(smallMaxBuffer + 1)},
		"truncated request header":       {true, proto.AppendFrame(nil, []byte{0, 0, 0, 1, 0})},
	} {
		t.Run(name, func(t *testing.T) {
			r := rawDial(t, s.Addr)
			if tc.connect {
				if resp := r.connect(proto.ConnectRequest{TimeOut: 30000}); resp == nil || resp.SessionID == 0 {
					t.Fatal("no session")
				}
			}
			if _, err := r.nc.Write(tc.bytes); err != nil {
				t.Fatal(err)
			}
			r.expectEOF()
		})
	}
	// A request whose body does not decode gets -5 and the connection lives.
	c := dial(t, s.Addr, wireclient.Options{})
	if _, _, err := c.DoRaw(testCtx(t), proto.OpGetData, []byte{0, 0, 0, 9, 'x'}); !errors.Is(err, proto.ErrMarshallingError) {
		t.Fatalf("undecodable getData: %v", err)
	}
	h1, _, err := c.DoRaw(testCtx(t), proto.OpCreate, []byte{0xff, 0xff})
	if !errors.Is(err, proto.ErrMarshallingError) {
		t.Fatalf("undecodable create: %v", err)
	}
	if h1.Zxid <= 0 {
		t.Fatalf("undecodable write took no zxid: %+v", h1)
	}
	if d, _ := getData(t, c, "/data", false); d != "intact" {
		t.Fatalf("data %q", d)
	}
	if d, _ := getData(t, good, "/data", false); d != "intact" {
		t.Fatalf("data %q", d)
	}
}

// TestSilentNewConnectionIsClosed checks that a connection that never completes its handshake is closed after
// the sessionless timeout.
func TestSilentNewConnectionIsClosed(t *testing.T) {
	server.SetSessionlessTimeout(t, 200*time.Millisecond)
	s := herdtest.Start(t)
	for name, send := range map[string][]byte{
		"nothing":             nil,
		"half a length":       {0, 0},
		"half a frame":        {0, 0, 0, 44, 0, 0},
		"stmk without a mask": []byte("stmk\x00\x00"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rawDial(t, s.Addr)
			if _, err := r.nc.Write(send); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r.expectEOF()
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("closed only after %v", d)
			}
		})
	}
}

// TestHandshakeDeadlineEndsWithHandshake checks that the handshake deadline no longer applies once a session
// is established.
func TestHandshakeDeadlineEndsWithHandshake(t *testing.T) {
	server.SetSessionlessTimeout(t, 200*time.Millisecond)
	s := herdtest.Start(t)
	// An established session is not bound by the handshake deadline: idle
	// (its pings every 2s are further apart than the deadline) it stays up.
	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: 6 * time.Second})
	create(t, c, "/x", "", proto.ModePersistent)
	expectNoEvent(t, c, 400*time.Millisecond)
	if !exists(t, c, "/x", false) {
		t.Fatal("/x missing")
	}
}
