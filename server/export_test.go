package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/herd-io/herd/server/storage"
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

// BudgetStats returns what the server holds for clients (requests read and
// not answered, bytes of requests and queued output) and how many connection
// goroutines wait for the budget (test hook).
func (s *Server) BudgetStats() (requests, bytes, paused int64) {
	return s.budget.requests.Load(), s.budget.bytes.Load(), s.budget.paused.Load()
}

// SetStorageFaults makes cfg's log fail file operations as f says
// (storage.Options.FailWrite; test hook).
func SetStorageFaults(cfg *Config, f func(op storage.Fault, file string) error) {
	cfg.storageFaults = f
}

// RaftTerm returns the node's current Raft term (test hook): it grows with
// every election.
func (s *Server) RaftTerm() string { return strconv.FormatUint(s.node.State().Term, 10) }
