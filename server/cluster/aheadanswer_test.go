package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestLeaderCountsFollowersByTheirAnswers: a chain of single writes, as a
// lock hand-off makes, commits on the followers' answers to the batches sent
// ahead, without raft's AppendEntries of those entries; every node applies
// every write.
func TestLeaderCountsFollowersByTheirAnswers(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	s := leader.node.NewStream()
	propose(t, s, "warm")
	spared := leader.node.trans.(*commitTransport).spared.Load()
	const writes = 20
	for i := range writes {
		propose(t, s, fmt.Sprintf("w%d", i))
	}
	for _, tn := range c.nodes {
		eventually(t, fmt.Sprintf("node %d to apply every write", tn.id), func() bool {
			return tn.fsm.has(fmt.Sprintf("w%d", writes-1))
		})
		for i := range writes {
			if !tn.fsm.has(fmt.Sprintf("w%d", i)) {
				t.Errorf("node %d lacks w%d", tn.id, i)
			}
		}
	}
	got := leader.node.trans.(*commitTransport).spared.Load() - spared
	t.Logf("%d of %d AppendEntries to the two followers answered from their answers", got, 2*writes)
	if got == 0 {
		t.Error("no AppendEntries was answered from the followers' answers")
	}
	if n := leader.node.aheadRuns.expired.Load(); n != 0 {
		t.Errorf("%d waits for an answer ran to their bound", n)
	}
}

// runsFor returns runs whose follower "2" is known to match the leader up to
// 9 in term 3.
func runsFor(t *testing.T) *aheadRuns {
	t.Helper()
	a := newAheadRuns(time.Minute)
	a.confirm("2", 3, 9)
	return a
}

func TestAheadRunWaitsForTheFollowersAnswer(t *testing.T) {
	a := runsFor(t)
	now := time.Now()
	a.sent("2", 3, 10, 11, now)
	a.sent("2", 3, 12, 12, now) // the next batch extends the run
	got := make(chan bool)
	go func() { got <- a.wait("2", 3, 10, 12, nil) }()
	a.answered("2", 3, 11, true)
	select {
	case <-got:
		t.Fatal("the wait ended before the answer for its last entry")
	default:
	}
	a.answered("2", 3, 12, true)
	if !<-got {
		t.Fatal("stored up to 12, but the wait reports otherwise")
	}
	if !a.wait("2", 3, 12, 12, nil) {
		t.Error("a later AppendEntries inside the stored run must not wait")
	}
}

func TestAheadRunSendsAppendEntriesWhenNotCovered(t *testing.T) {
	a := runsFor(t)
	a.sent("2", 3, 10, 11, time.Now())
	a.answered("2", 3, 11, true)
	for name, c := range map[string]struct {
		peer              string
		term, first, last uint64
	}{
		"other peer":            {"3", 3, 10, 11},
		"other term":            {"2", 4, 10, 11},
		"starts before the run": {"2", 3, 9, 11},
		"ends after the run":    {"2", 3, 10, 12},
	} {
		if a.wait(raft.ServerID(c.peer), c.term, c.first, c.last, nil) {
			t.Errorf("%s: answered without the follower's answer for it", name)
		}
	}
	a.sent("2", 3, 13, 13, time.Now()) // not after 11: 12 went the usual way
	if a.wait("2", 3, 10, 11, nil) {
		t.Error("a new run keeps the old run's answers")
	}
}

// TestAheadRunNeedsAMatchingLog: a follower whose log is not known to reach
// the entry before the batch (a new leader's first guess of it, or logs
// found to differ) gets raft's AppendEntries without a wait: it may be
// unable to store the batch until that AppendEntries brings what it lacks.
func TestAheadRunNeedsAMatchingLog(t *testing.T) {
	a := newAheadRuns(time.Minute)
	a.sent("2", 3, 10, 10, time.Now())
	// With a minute's bound, a wait that happens fails the test's deadline.
	if a.wait("2", 3, 10, 10, nil) {
		t.Error("answered for a follower whose log was never confirmed up to 9")
	}
	a.confirm("2", 2, 9) // an earlier term's leadership
	if a.wait("2", 3, 10, 10, nil) {
		t.Error("a match confirmed in another term counts")
	}
	a.confirm("2", 3, 9)
	got := make(chan bool)
	go func() { got <- a.wait("2", 3, 10, 10, nil) }()
	a.answered("2", 3, 10, true)
	if !<-got {
		t.Fatal("confirmed up to 9 and stored 10, but the wait reports otherwise")
	}
	a.forget("2") // raft's AppendEntries failed: the logs differ
	a.sent("2", 3, 11, 11, time.Now())
	if a.wait("2", 3, 11, 11, nil) {
		t.Error("the match survived a failed AppendEntries")
	}
}

func TestAheadRunEndsAtADropOrAClosedConnection(t *testing.T) {
	for name, end := range map[string]func(a *aheadRuns){
		"dropped":           func(a *aheadRuns) { a.answered("2", 3, 10, false) },
		"connection closed": func(a *aheadRuns) { a.forget("2") },
		"new run":           func(a *aheadRuns) { a.sent("2", 3, 31, 31, time.Now()) },
	} {
		a := runsFor(t)
		a.sent("2", 3, 10, 10, time.Now())
		a.sent("2", 3, 11, 11, time.Now())
		got := make(chan bool)
		go func() { got <- a.wait("2", 3, 10, 11, nil) }()
		end(a)
		select {
		case ok := <-got:
			if ok {
				t.Errorf("%s: the wait reports stored", name)
			}
		case <-time.After(wait):
			t.Fatalf("%s: the wait did not end", name)
		}
		a.answered("2", 3, 11, true) // the run is gone: ignored
		if a.wait("2", 3, 11, 11, nil) {
			t.Errorf("%s: an answer for a run that ended counts", name)
		}
	}
}

func TestAheadRunWaitIsBounded(t *testing.T) {
	a := newAheadRuns(time.Millisecond) // an answer is fresh for a millisecond
	a.confirm("2", 3, 9)
	a.sent("2", 3, 10, 10, time.Now())
	if a.wait("2", 3, 10, 10, nil) {
		t.Error("no answer came, but the wait reports stored")
	}
	a = runsFor(t)
	a.sent("2", 3, 10, 10, time.Now())
	done := make(chan struct{})
	close(done)
	if a.wait("2", 3, 10, 10, done) {
		t.Error("the node closed, but the wait reports stored")
	}
}

// TestAheadRunAnswerGoesStale: a stored answer vouches that the follower
// still follows this leader only for fresh after the batch was sent.
func TestAheadRunAnswerGoesStale(t *testing.T) {
	a := newAheadRuns(time.Second)
	a.confirm("2", 3, 9)
	a.sent("2", 3, 10, 10, time.Now().Add(-2*time.Second))
	a.answered("2", 3, 10, true)
	if a.wait("2", 3, 10, 10, nil) {
		t.Error("answered on an answer to a batch sent longer ago than fresh")
	}
}

func TestAheadRunEndsWhenTheFollowerStopsAnswering(t *testing.T) {
	a := runsFor(t)
	for i := range uint64(maxUnanswered + 1) {
		a.sent("2", 3, 10+i, 10+i, time.Now())
	}
	a.answered("2", 3, 10, true)
	if a.wait("2", 3, 10, 10, nil) {
		t.Error("a run with more than maxUnanswered batches unanswered goes on")
	}
}

// TestSparedAppendEntriesSendsItsCommitIndex: the commit index of an
// AppendEntries the transport answered for goes to that follower in a commit
// message, unless every follower was told of it already.
func TestSparedAppendEntriesSendsItsCommitIndex(t *testing.T) {
	store := raft.NewInmemStore()
	if err := store.StoreLogs([]*raft.Log{{Index: 7, Term: 2}, {Index: 8, Term: 3}}); err != nil {
		t.Fatal(err)
	}
	mk := func(peer int, follows bool) *peerConn {
		pc := &peerConn{peer: peer, out: make(chan []byte, 4), done: make(chan struct{})}
		pc.follows.Store(follows)
		return pc
	}
	p2, p3, p2old := mk(2, true), mk(3, true), mk(2, false)
	n := &Node{logs: store, peerConns: map[*peerConn]struct{}{p2: {}, p3: {}, p2old: {}},
		toldCommit: map[int][2]uint64{2: {3, 7}}}

	n.commitForSpared("2", &raft.AppendEntriesRequest{Term: 3, LeaderCommitIndex: 7})
	if len(p2.out) != 0 {
		t.Fatal("a commit the follower was told of was sent again")
	}
	n.commitForSpared("2", &raft.AppendEntriesRequest{Term: 3, LeaderCommitIndex: 8})
	if len(p2.out) != 1 || len(p3.out) != 0 || len(p2old.out) != 0 {
		t.Fatalf("queued %d, %d, %d frames; want one, to follower 2's subscribed connection", len(p2.out), len(p3.out), len(p2old.out))
	}
	f := <-p2.out
	r := reader{b: f[5:]}
	if f[4] != msgCommit || r.u64() != 3 || r.u64() != 8 || r.u64() != 3 {
		t.Errorf("frame %x is not the commit of entry 8 (term 3) in term 3", f)
	}
	n.commitForSpared("2", &raft.AppendEntriesRequest{Term: 3, LeaderCommitIndex: 8})
	if len(p2.out) != 0 {
		t.Error("the same commit was sent twice")
	}
}

// answerOf reads the answer frame fw's connection got, failing after wait.
func answerOf(t *testing.T, fw *forwarder) (term, last uint64, stored bool) {
	t.Helper()
	select {
	case f := <-fw.pc.out:
		r := reader{b: f[5:]}
		term, last, ok := r.u64(), r.u64(), r.u8()
		if f[4] != msgStored || r.err != nil || len(r.b) != 0 {
			t.Fatalf("frame %x is not an answer", f)
		}
		return term, last, ok == 1
	case <-time.After(wait):
		t.Fatal("no answer")
	}
	return 0, 0, false
}

// TestFollowerAnswersBatchesItDrops: a batch the follower's queue has no
// room for, and one it does not give raft, are answered dropped, so that
// the leader sends raft's AppendEntries at once instead of waiting.
func TestFollowerAnswersBatchesItDrops(t *testing.T) {
	newFw := func() *forwarder {
		fw := &forwarder{pc: &peerConn{out: make(chan []byte, 4), done: make(chan struct{})}}
		fw.answers.Store(true)
		return fw
	}
	batch := func(leader int, term, prev uint64, fw *forwarder) aheadBatch {
		return aheadBatch{leader: leader, term: term, prev: prev, prevTerm: term, fw: fw,
			logs: []*raft.Log{{Index: prev + 1, Term: term, Type: raft.LogCommand}, {Index: prev + 2, Term: term, Type: raft.LogCommand}}}
	}

	fw := newFw()
	full := &Node{ahead: make(chan aheadBatch)} // no room, no reader
	full.learnAhead(batch(1, 4, 9, fw))
	if term, last, stored := answerOf(t, fw); term != 4 || last != 11 || stored {
		t.Errorf("queue full: answered term %d, last %d, stored %v; want 4, 11, dropped", term, last, stored)
	}

	c := startCluster(t, 3)
	leader := c.waitReady()
	propose(t, leader.node.NewStream(), "warm")
	f := c.follower()
	other := 1
	for other == leader.id || other == f.id {
		other++
	}
	fw = newFw()
	f.node.learnAhead(batch(other, f.node.raft.CurrentTerm(), f.node.raft.LastIndex(), fw))
	if _, _, stored := answerOf(t, fw); stored {
		t.Error("a batch from a member the follower does not follow was answered stored")
	}

	// A forwarder whose leader does not take answers sends none.
	quiet := &forwarder{pc: &peerConn{out: make(chan []byte, 4), done: make(chan struct{})}}
	full.learnAhead(batch(1, 4, 9, quiet))
	if len(quiet.pc.out) != 0 {
		t.Error("answered a leader that does not take answers")
	}
}

// TestRestartedFollowerCatchesUpWithoutStallingTheLeader: a follower that
// restarts behind the leader cannot store the batches sent ahead until raft
// brings it what it missed, so the leader sends raft's AppendEntries at once
// rather than waiting for answers; afterwards it is answered for again.
func TestRestartedFollowerCatchesUpWithoutStallingTheLeader(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	s := leader.node.NewStream()
	propose(t, s, "warm")
	f := c.follower()
	f.stop()
	for i := range 30 {
		propose(t, s, fmt.Sprintf("missed-%d", i))
	}
	f.restart(t)
	for i := range 20 {
		propose(t, s, fmt.Sprintf("after-%d", i))
	}
	eventually(t, "the restarted follower to apply every write", func() bool { return f.fsm.has("after-19") })
	if !f.fsm.has("missed-29") {
		t.Error("the restarted follower lacks a write made while it was down")
	}
	if n := leader.node.aheadRuns.expired.Load(); n != 0 {
		t.Errorf("%d waits for an answer ran to their bound", n)
	}
	spared := leader.node.trans.(*commitTransport).spared.Load()
	for i := range 10 {
		propose(t, s, fmt.Sprintf("later-%d", i))
	}
	if leader.node.trans.(*commitTransport).spared.Load() == spared {
		t.Error("no AppendEntries was spared after the follower caught up")
	}
}
