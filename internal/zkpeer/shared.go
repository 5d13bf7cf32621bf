package zkpeer

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// Shared is one ZooKeeper for a whole test binary, started on first use:
// starting a JVM per test would make a suite slow. Declare it as a package
// variable and call Stop from TestMain after m.Run (before the leak check).
type Shared struct {
	// Options configure the server when it starts.
	Options Options

	once sync.Once
	srv  *Server
	dir  string
	err  error
}

// Addr returns the shared server's address, starting it if needed. Without
// the peer installed it fails t in CI and skips it elsewhere, like Require.
func (s *Shared) Addr(t testing.TB) string {
	t.Helper()
	Require(t, Jar)
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if s.dir, s.err = os.MkdirTemp("", "zkpeer-shared"); s.err == nil {
			s.srv, s.err = Start(ctx, s.dir, s.Options)
		}
	})
	if s.err != nil {
		t.Fatalf("start ZooKeeper: %v", s.err)
	}
	return s.srv.Addr
}

// Stop stops the server if it was started and removes its directory.
func (s *Shared) Stop() {
	if s.srv != nil {
		s.srv.Stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
