package cluster

import (
	"fmt"
	"testing"
	"time"
)

// TestFollowerLearnsCommitWithoutWaitingForCommitTimeout: a write forwarded
// by a follower is answered once the follower applies it, which needs the
// follower to learn the entry is committed. With raft's commit timer set
// to a minute, only the leader's nudge can tell it in time.
func TestFollowerLearnsCommitWithoutWaitingForCommitTimeout(t *testing.T) {
	c := startClusterWith(t, 3, func(cfg *Config) { cfg.Timing.CommitTimeout = time.Minute })
	c.waitReady()
	s := c.follower().node.NewStream()
	for i := range 5 {
		p := s.Propose([]byte(fmt.Sprintf("w%d", i)))
		done := make(chan error, 1)
		go func() { _, err := p.Wait(); done <- err }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(wait):
			t.Fatalf("write %d at a follower not answered in %v: the follower waits for raft's commit timer", i, wait)
		}
	}
}
