// Package herdtest runs in-process herd servers for tests, yours and herd's
// own: each on 127.0.0.1:0 with its own temporary data directory, stopped when
// the test ends.
//
//	func TestMyLock(t *testing.T) {
//		srv := herdtest.Start(t)
//		client, err := framework.New(srv.Addr)
//		...
//	}
//
// StartCluster runs a cluster of nodes on loopback, with fault hooks for
// testing what clients see when a node dies, freezes its state machine, or is
// cut from its peers or its clients:
//
//	c := herdtest.StartCluster(t, 3)
//	client, err := framework.New(c.ConnectString())
//	...
//	c.Leader().Kill()
//	c.Leader() // waits for the new one
package herdtest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/server"
)

// Server is a running in-process herd node.
type Server struct {
	// Addr is host:port of the client listener. It stays the same across
	// Restart, so clients can reconnect to it.
	Addr string
	// Config is the configuration the node runs with (DataDir included).
	Config server.Config

	t      testing.TB
	srv    *server.Server
	served chan error

	// clients are the client connections, across restarts (faults.go).
	clients *conns
}

// Option changes the configuration before the server starts.
type Option func(*server.Config)

// WithTickTime sets the tick (and so the session-timeout bounds).
func WithTickTime(d time.Duration) Option { return func(c *server.Config) { c.TickTime = d } }

// WithExtendedTypes enables TTL nodes.
func WithExtendedTypes() Option { return func(c *server.Config) { c.ExtendedTypes = true } }

// WithConfig applies an arbitrary change.
func WithConfig(f func(*server.Config)) Option { return Option(f) }

// Start runs a server for t and stops it at the end of the test.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := server.Config{
		DataDir:         t.TempDir(),
		Logger:          zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
		FourLetterWords: []string{"*"},
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{t: t, Config: cfg, clients: newConns()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("herdtest: listen: %v", err)
	}
	s.Addr = l.Addr().String()
	if err := s.start(l); err != nil {
		t.Fatalf("herdtest: start: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(l net.Listener) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.New(ctx, s.Config)
	if err != nil {
		l.Close()
		return err
	}
	s.srv = srv
	s.served = make(chan error, 1)
	go func() { s.served <- srv.Serve(s.clients.wrap(l)) }()
	return nil
}

// Server returns the running node (nil while stopped).
func (s *Server) Server() *server.Server { return s.srv }

// Stop shuts the node down (idempotent). Sessions survive in its data dir.
func (s *Server) Stop() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.t.Errorf("herdtest: shutdown: %v", err)
	}
	if err := <-s.served; err != nil && !errors.Is(err, server.ErrServerClosed) {
		s.t.Errorf("herdtest: serve: %v", err)
	}
	s.srv = nil
}

// Restart starts the node again on the same address and data directory. The
// port may be taken in between by another process only in theory: it was ours
// a moment ago and the kernel does not hand it out at random soon after.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var l net.Listener
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err = net.Listen("tcp", s.Addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old socket is still closing
	}
	if err != nil {
		s.t.Fatalf("herdtest: relisten on %s: %v", s.Addr, err)
	}
	if err := s.start(l); err != nil {
		s.t.Fatalf("herdtest: restart: %v", err)
	}
}
