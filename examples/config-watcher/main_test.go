package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a bytes.Buffer safe for the watcher and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWatchesConfig runs the watcher against an in-process herd and breaks
// its connection and its session on the way: it must keep printing each
// version.
func TestWatchesConfig(t *testing.T) {
	srv := herdtest.Start(t, herdtest.WithTickTime(500*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := framework.New(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.BlockUntilConnected(ctx); err != nil {
		t.Fatal(err)
	}

	out := &syncBuffer{}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, out, srv.Addr, "/config", zap.NewNop()) }()

	waitFor := func(s string) {
		t.Helper()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for !strings.Contains(out.String(), s) {
			select {
			case <-ctx.Done():
				t.Fatalf("output never had %q:\n%s", s, out.String())
			case <-tick.C:
			}
		}
	}
	waitFor("/config does not exist")
	if _, err := admin.Create(ctx, "/config", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	waitFor("Version: 0, data: v1")
	if _, err := admin.Set(ctx, "/config", []byte("v2"), framework.WithVersion(0)); err != nil {
		t.Fatal(err)
	}
	waitFor("Version: 1, data: v2")

	// The watcher's session is the one that is not admin's.
	var watcher int64
	for _, id := range srv.Sessions() {
		if id != admin.SessionID() {
			watcher = id
		}
	}
	if watcher == 0 {
		t.Fatalf("no watcher session among %x", srv.Sessions())
	}
	srv.CutConnections(watcher)
	waitFor("connection: RECONNECTED")
	if _, err := admin.Set(ctx, "/config", []byte("v3")); err != nil {
		t.Fatal(err)
	}
	waitFor("Version: 2, data: v3")
	srv.ExpireSession(watcher)
	waitFor("connection: LOST")
	if _, err := admin.Set(ctx, "/config", []byte("v4")); err != nil {
		t.Fatal(err)
	}
	waitFor("Version: 3, data: v4")

	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, want := range []string{"connection: CONNECTED", "connection: SUSPENDED"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("no %q in output:\n%s", want, out.String())
		}
	}
}
