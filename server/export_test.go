package server

import (
	"testing"
	"time"
)

// SnapshotNow forces a Raft snapshot of the node's state (test hook): the next
// start restores it and replays only the log entries after it.
func (s *Server) SnapshotNow() error { return s.node.Snapshot() }

// ReapNow runs one container/TTL scan as of now (test hook), as the periodic
// reaper does.
func (s *Server) ReapNow(now time.Time) { s.reap(now) }

// SetSessionlessTimeout shortens, for the rest of test t, how long a new
// connection may stay silent before its handshake. Call it before starting
// the server.
func SetSessionlessTimeout(t testing.TB, d time.Duration) {
	old := sessionlessTimeout
	sessionlessTimeout = d
	t.Cleanup(func() { sessionlessTimeout = old })
}
