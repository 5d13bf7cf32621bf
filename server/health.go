package server

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// writeHealth remembers whether the node's log could be written when last
// asked, to act once when writes resume.
type writeHealth struct {
	blocked atomic.Bool
}

// Health returns nil while this node can write its log, and otherwise why it
// cannot (an error wrapping storage.ErrCannotWrite: a full disk, say). Writes
// wait meanwhile and resume by themselves; reads are still served; ruok
// answers nothing.
func (s *Server) Health() error { return s.node.Health() }

// canWrite reports whether the log can be written. Session expiry and reaping
// skip their turn while it cannot: a close would only queue behind the
// blocked write, and a client whose requests wait for the disk cannot be told
// from one that is gone. When writes resume every session gets a fresh
// timeout, as after a leader change.
func (s *Server) canWrite(now time.Time) bool {
	if err := s.Health(); err != nil {
		if !s.health.blocked.Swap(true) {
			s.log.Error("cannot write the log: session expiry paused, writes wait", zap.Error(err))
		}
		return false
	}
	if s.health.blocked.Swap(false) {
		s.tracker.Reset(s.fsm.SessionTimeouts(), now)
		s.log.Warn("the log can be written again: sessions given a fresh timeout")
	}
	return true
}
