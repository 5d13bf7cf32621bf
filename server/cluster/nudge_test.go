package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"
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

// TestCommitMessageCommitsOnlyAMatchingEntry: a follower gives raft a
// commit message as an AppendEntries whose previous entry is the committed
// one; raft refuses it unless the follower's entry at that index has that
// term, so a message that does not match the log commits nothing.
func TestCommitMessageCommitsOnlyAMatchingEntry(t *testing.T) {
	followCommits = false // nudges only: the last nudge's own commit stays unknown to followers
	t.Cleanup(func() { followCommits = true })
	c := startClusterWith(t, 3, func(cfg *Config) { cfg.Timing.CommitTimeout = time.Minute })
	leader := c.waitReady()
	f := c.follower()
	// With the other follower cut off, only f's answer commits the last
	// nudge, so the AppendEntries that brought it to f was built before its
	// commit and cannot carry it. (With both followers, the other's answer
	// could commit it first, and f's AppendEntries, built after, told f:
	// CI met that.)
	for _, o := range c.nodes {
		if o != leader && o != f {
			o.faults.Cut()
		}
	}
	proposeWithin(t, f.node.NewStream(), "w")
	last := leader.node.raft.LastIndex()
	eventually(t, "the follower to hold the leader's last entry", func() bool { return f.node.raft.LastIndex() >= last })
	if got := f.node.CommitIndex(); got >= last {
		t.Fatalf("the follower knows the commit of %d already (commit index %d): nothing to test", last, got)
	}
	var entry raft.Log
	if err := leader.node.store.Log.GetLog(last, &entry); err != nil {
		t.Fatal(err)
	}
	term := leader.node.raft.CurrentTerm()
	given, tried := f.node.commitsGiven.Load(), f.node.commitsTried.Load()

	f.node.learnCommit(leader.id, term, last, entry.Term+1)
	eventually(t, "raft to answer the mismatched message", func() bool { return f.node.commitsTried.Load() > tried })
	if got := f.node.CommitIndex(); got >= last {
		t.Fatalf("a commit message naming term %d for entry %d (of term %d) committed it", entry.Term+1, last, entry.Term)
	}
	f.node.learnCommit(leader.id, term, last, entry.Term)
	eventually(t, "the matching message to commit the entry", func() bool { return f.node.CommitIndex() >= last })
	if f.node.commitsGiven.Load() != given+1 {
		t.Errorf("raft took %d commit messages, want 1", f.node.commitsGiven.Load()-given)
	}
}
