package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/zkpeer"
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

func TestWatchesConfig(t *testing.T) {
	srv := zkpeer.StartT(t, zkpeer.Options{TickTime: 500})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := framework.New(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

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
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(out.String(), "connection: CONNECTED") {
		t.Fatalf("no connection state in output:\n%s", out.String())
	}
}
