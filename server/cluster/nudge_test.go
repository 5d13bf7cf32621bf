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

// TestFollowerLearnsCommitFromCommitMessages: with every follower
// subscribed, the leader tells them of commits by message, appending no
// nudge entry: a follower's forwarded writes are answered, and a write at
// the leader is applied at every follower, long before raft's commit timer.
func TestFollowerLearnsCommitFromCommitMessages(t *testing.T) {
	c := startClusterWith(t, 3, func(cfg *Config) { cfg.Timing.CommitTimeout = time.Minute })
	leader := c.waitReady()
	eventually(t, "both followers subscribed", func() bool {
		leader.node.peerMu.Lock()
		defer leader.node.peerMu.Unlock()
		peers := map[int]bool{}
		for pc := range leader.node.peerConns {
			if pc.follows.Load() {
				peers[pc.peer] = true
			}
		}
		return len(peers) == 2
	})
	nudges := leader.node.nudges.Load()
	f := c.follower()
	s := f.node.NewStream()
	for i := range 5 {
		proposeWithin(t, s, fmt.Sprintf("f%d", i))
	}
	res := proposeWithin(t, leader.node.NewStream(), "at-leader")
	for _, tn := range c.nodes {
		eventually(t, "the leader's write applied at every node", func() bool { return tn.node.AppliedIndex() >= res.Index })
	}
	if got := leader.node.nudges.Load() - nudges; got != 0 {
		t.Errorf("the leader appended %d nudge entries with every follower subscribed", got)
	}
	if f.node.commitsGiven.Load() == 0 {
		t.Error("the follower gave raft no commit message")
	}
}

// TestNudgeEntriesWithoutCommitMessages: followers that do not subscribe to
// commit messages still learn commits at once, from nudge entries.
func TestNudgeEntriesWithoutCommitMessages(t *testing.T) {
	followCommits = false
	t.Cleanup(func() { followCommits = true })
	c := startClusterWith(t, 3, func(cfg *Config) { cfg.Timing.CommitTimeout = time.Minute })
	leader := c.waitReady()
	s := c.follower().node.NewStream()
	for i := range 5 {
		proposeWithin(t, s, fmt.Sprintf("w%d", i))
	}
	if leader.node.nudges.Load() == 0 {
		t.Error("no nudge entry appended for unsubscribed followers")
	}
}

// proposeWithin proposes data and fails the test unless it is applied here
// within wait.
func proposeWithin(t *testing.T, s *Stream, data string) Applied {
	t.Helper()
	p := s.Propose([]byte(data))
	type outcome struct {
		res Applied
		err error
	}
	done := make(chan outcome, 1)
	go func() { res, err := p.Wait(); done <- outcome{res, err} }()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatal(o.err)
		}
		return o.res
	case <-time.After(wait):
		t.Fatalf("write %q not answered in %v: the node waits for raft's commit timer", data, wait)
	}
	return Applied{}
}
