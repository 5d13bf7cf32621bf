package server_test

import (
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

// TestOpsLogs checks the operational logs: connection open and close and
// session creation at debug with the session id as a field, and a slow
// request at warn with its opcode.
func TestOpsLogs(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) {
		c.Logger = zap.New(core)
		c.SlowRequest = time.Nanosecond // every request is slow
	}))
	c := dial(t, s.Addr, wireclient.Options{})
	sid := c.SessionID()
	if _, err := c.Do(testCtx(t), proto.OpExists, &proto.PathWatchRequest{Path: "/"}, &proto.StatResponse{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "connection closed log", func() bool { return logs.FilterMessage("connection closed").Len() > 0 })
	hexID := "0x" + formatHex(sid)
	for _, msg := range []string{"session created", "connection closed"} {
		es := logs.FilterMessage(msg).FilterField(zap.String("session", hexID)).All()
		if len(es) == 0 || es[0].Level != zapcore.DebugLevel {
			t.Errorf("%s: %v (want a debug entry with session %s)", msg, es, hexID)
		}
	}
	if logs.FilterMessage("connection opened").Len() == 0 {
		t.Error("no connection opened log")
	}
	slow := logs.FilterMessage("slow request").FilterField(zap.Stringer("op", proto.OpExists)).All()
	if len(slow) == 0 || slow[0].Level != zapcore.WarnLevel {
		t.Errorf("slow request: %v", slow)
	}
}

func formatHex(n int64) string {
	const digits = "0123456789abcdef"
	u := uint64(n)
	var b []byte
	for u > 0 {
		b = append([]byte{digits[u&15]}, b...)
		u >>= 4
	}
	return string(b)
}

// TestSessionExpiryLog: a silent client's session expires with a debug
// entry naming the session.
func TestSessionExpiryLog(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	s := herdtest.Start(t, herdtest.WithTickTime(100*time.Millisecond), herdtest.WithConfig(func(c *server.Config) {
		c.Logger = zap.New(core)
	}))
	c, err := wireclient.Dial(testCtx(t), s.Addr, wireclient.Options{SessionTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	c.Drop()
	field := zap.String("session", "0x"+formatHex(sid))
	waitFor(t, "session expired log", func() bool { return logs.FilterMessage("session expired").FilterField(field).Len() > 0 })
	if e := logs.FilterMessage("session expired").FilterField(field).All()[0]; e.Level != zapcore.DebugLevel {
		t.Errorf("session expired logged at %v", e.Level)
	}
}
