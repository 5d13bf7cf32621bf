package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/server/storage"
)

func TestEntriesFrameRoundTrip(t *testing.T) {
	at := time.Unix(0, 1764633600123456789)
	logs := []*raft.Log{
		{Index: 8, Term: 3, Type: raft.LogCommand, Data: []byte("a"), AppendedAt: at},
		{Index: 9, Term: 3, Type: raft.LogConfiguration, Data: []byte("cfg"), Extensions: []byte("x"), AppendedAt: at},
		{Index: 10, Term: 3, Type: raft.LogNoop, AppendedAt: at},
	}
	f := encodeAhead(3, 7, 2, logs)
	if f[4] != msgEntries {
		t.Fatalf("frame type %d", f[4])
	}
	b, ok := decodeAhead(2, f[5:])
	if !ok {
		t.Fatal("a frame encodeAhead made does not decode")
	}
	if b.leader != 2 || b.term != 3 || b.prev != 7 || b.prevTerm != 2 || len(b.logs) != 3 {
		t.Fatalf("decoded %+v", b)
	}
	for i, l := range b.logs {
		w := logs[i]
		if l.Index != w.Index || l.Term != w.Term || l.Type != w.Type || !bytes.Equal(l.Data, w.Data) ||
			!bytes.Equal(l.Extensions, w.Extensions) || !l.AppendedAt.Equal(w.AppendedAt) {
			t.Errorf("entry %d: got %+v, want %+v", i, l, w)
		}
	}
	if b.logs[2].Data != nil || b.logs[0].Extensions != nil {
		t.Error("empty fields decode as empty slices, not nil as raft's transport gives them")
	}
}

// TestEntriesFrameRefusesWhatRaftWouldNotSend: a batch must be the entries
// right after the previous one, all of the frame's term, and the frame must
// end with them.
func TestEntriesFrameRefusesWhatRaftWouldNotSend(t *testing.T) {
	ok := []*raft.Log{{Index: 5, Term: 2, Data: []byte("a")}, {Index: 6, Term: 2}}
	good := encodeAhead(2, 4, 1, ok)[5:]
	many := make([]*raft.Log, sendAheadEntries+1)
	for i := range many {
		many[i] = &raft.Log{Index: uint64(5 + i), Term: 2}
	}
	cases := map[string][]byte{
		"gap":            encodeAhead(2, 4, 1, []*raft.Log{{Index: 5, Term: 2}, {Index: 7, Term: 2}})[5:],
		"not after prev": encodeAhead(2, 3, 1, ok)[5:],
		"other term":     encodeAhead(3, 4, 1, ok)[5:],
		"none":           encodeAhead(2, 4, 1, nil)[5:],
		"too many":       encodeAhead(2, 4, 1, many)[5:],
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"empty":          nil,
	}
	for name, body := range cases {
		if _, ok := decodeAhead(1, body); ok {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodeAhead: no input panics the decoder, and what it accepts encodes
// back to the same bytes.
func FuzzDecodeAhead(f *testing.F) {
	f.Add(encodeAhead(2, 4, 1, []*raft.Log{{Index: 5, Term: 2, Data: []byte("a")}, {Index: 6, Term: 2}})[5:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		b, ok := decodeAhead(1, body)
		if !ok {
			return
		}
		if again := encodeAhead(b.term, b.prev, b.prevTerm, b.logs)[5:]; !bytes.Equal(again, body) {
			t.Fatalf("decoded %x, encodes as %x", body, again)
		}
	})
}

// failLogSyncs makes the log fsyncs of the node whose id is in failing fail
// (storage retries them until they pass); 0 fails none.
func failLogSyncs(failing *atomic.Int64) func(*Config) {
	return func(cfg *Config) {
		id := int64(cfg.ID)
		cfg.StorageFaults = func(op storage.Fault, _ string) error {
			if op == storage.FaultSync && failing.Load() == id {
				return errors.New("test: log fsync fails")
			}
			return nil
		}
	}
}

// TestFollowersWriteEntriesAheadOfTheLeader: the followers write an entry
// while the leader's own write of it is still going on, and it commits only
// once the leader's write is done.
func TestFollowersWriteEntriesAheadOfTheLeader(t *testing.T) {
	var failing atomic.Int64
	c := startClusterWith(t, 3, failLogSyncs(&failing))
	leader := c.waitReady()
	propose(t, leader.node.NewStream(), "warm") // every follower subscribed and caught up
	base := leader.node.raft.LastIndex()
	for _, tn := range c.nodes {
		eventually(t, "every node to hold the first write", func() bool { return tn.node.raft.LastIndex() >= base })
	}

	failing.Store(int64(leader.id))
	p := leader.node.NewStream().Propose([]byte("ahead"))
	for _, tn := range c.nodes {
		if tn != leader {
			eventually(t, fmt.Sprintf("node %d to write the entry the leader is writing", tn.id),
				func() bool { return logHolds(tn, base, "ahead") })
		}
	}
	for _, tn := range c.nodes {
		if p.finished() || tn.fsm.has("ahead") {
			t.Fatal("the entry committed before the leader had written it")
		}
	}
	failing.Store(0)
	res, err := p.Wait()
	if err != nil || res.Response != "ok:ahead" {
		t.Fatalf("propose: %v %v", res.Response, err)
	}
	for _, tn := range c.nodes {
		eventually(t, "the entry applied everywhere", func() bool { return tn.fsm.has("ahead") })
		if tn != leader && tn.node.aheadGiven.Load() == 0 {
			t.Errorf("node %d took no entries ahead", tn.id)
		}
	}
}

// TestEntryWrittenAheadCommitsAfterLeaderDies: a follower's write reaches a
// leader that dies before its own log write completes. The followers wrote
// the entry ahead, so the next leader commits it, and the follower's
// proposal, in doubt when its leader died, resolves as applied, once.
func TestEntryWrittenAheadCommitsAfterLeaderDies(t *testing.T) {
	var failing atomic.Int64
	c := startClusterWith(t, 3, failLogSyncs(&failing))
	leader := c.waitReady()
	propose(t, leader.node.NewStream(), "warm")
	base := leader.node.raft.LastIndex()
	var others []*testNode
	for _, tn := range c.nodes {
		eventually(t, "every node to hold the first write", func() bool { return tn.node.raft.LastIndex() >= base })
		if tn != leader {
			others = append(others, tn)
		}
	}

	failing.Store(int64(leader.id))
	p := others[0].node.NewStream().Propose([]byte("orphan"))
	for _, tn := range others {
		eventually(t, fmt.Sprintf("node %d to write the entry ahead", tn.id), func() bool { return logHolds(tn, base, "orphan") })
	}
	leader.stop() // its write never completed
	failing.Store(0)

	done := make(chan error, 1)
	go func() {
		res, err := p.Wait()
		if err == nil && res.Response != "ok:orphan" {
			err = fmt.Errorf("response %v", res.Response)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the proposal the next leader committed failed: %v", err)
		}
	case <-time.After(wait):
		t.Fatalf("proposal not resolved in %v", wait)
	}
	for _, tn := range others {
		eventually(t, "the entry applied at both survivors", func() bool { return tn.fsm.has("orphan") })
		if got := tn.fsm.count("orphan"); got != 1 {
			t.Errorf("node %d applied the entry %d times", tn.id, got)
		}
	}
}

// count reports how many times entry was applied.
func (f *listFSM) count(entry string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.entries {
		if e == entry {
			n++
		}
	}
	return n
}

// logHolds reports whether tn's log holds, after index from, an entry whose
// data contains payload.
func logHolds(tn *testNode, from uint64, payload string) bool {
	for i := from + 1; i <= tn.node.raft.LastIndex(); i++ {
		var l raft.Log
		if tn.node.logs.GetLog(i, &l) == nil && bytes.Contains(l.Data, []byte(payload)) {
			return true
		}
	}
	return false
}

// TestAheadBatchesRaftWouldRefuseAreDropped: a follower gives raft a batch
// only from the leader it follows, in that leader's term, continuing its
// own log; anything else is dropped before raft sees it.
func TestAheadBatchesRaftWouldRefuseAreDropped(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	propose(t, leader.node.NewStream(), "warm")
	f := c.follower()
	eventually(t, "the follower to hold the write", func() bool { return logHolds(f, 0, "warm") })
	last := f.node.raft.LastIndex()
	var prev raft.Log
	if err := f.node.logs.GetLog(last, &prev); err != nil {
		t.Fatal(err)
	}
	term := f.node.raft.CurrentTerm()
	next := func() []*raft.Log {
		return []*raft.Log{{Index: last + 1, Term: term, Type: raft.LogCommand, Data: []byte("x")}}
	}
	other := 1
	for other == leader.id || other == f.id {
		other++
	}
	for name, b := range map[string]aheadBatch{
		"another member":        {leader: other, term: term, prev: last, prevTerm: prev.Term, logs: next()},
		"a later term":          {leader: leader.id, term: term + 1, prev: last, prevTerm: prev.Term, logs: next()},
		"an earlier term":       {leader: leader.id, term: term - 1, prev: last, prevTerm: prev.Term, logs: next()},
		"another previous term": {leader: leader.id, term: term, prev: last, prevTerm: prev.Term + 1, logs: next()},
		"entries it holds":      {leader: leader.id, term: term, prev: last - 1, prevTerm: prev.Term, logs: []*raft.Log{{Index: last, Term: term}}},
	} {
		if n := f.node; n.waitForAhead(b) {
			t.Errorf("%s: the batch would be given to raft", name)
		}
	}
	// The leader's next batch is given (read afresh: on a busy machine the
	// leader may have changed meanwhile).
	eventually(t, "the leader's next batch to be given to raft", func() bool {
		_, id := f.node.raft.LeaderWithID()
		lead, err := strconv.Atoi(string(id))
		last := f.node.raft.LastIndex()
		var prev raft.Log
		if err != nil || f.node.logs.GetLog(last, &prev) != nil {
			return false
		}
		term := f.node.raft.CurrentTerm()
		return f.node.waitForAhead(aheadBatch{leader: lead, term: term, prev: last, prevTerm: prev.Term,
			logs: []*raft.Log{{Index: last + 1, Term: term, Type: raft.LogCommand, Data: []byte("x")}}})
	})
}

// TestRemovedMemberGetsNoEntriesAhead: raft stops replicating to a server
// it removed, and so must sending ahead, though the removed node's herd
// connection still asks for entries; otherwise it keeps following and
// applying.
func TestRemovedMemberGetsNoEntriesAhead(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	propose(t, leader.node.NewStream(), "warm")
	gone := c.follower()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := leader.node.ChangeMembers(ctx, Change{Remove: []int{gone.id}}); err != nil {
		t.Fatal(err)
	}
	// The removal entry itself may still reach it ahead (raft's latest
	// configuration changes only once the entry is written); nothing after.
	s := leader.node.NewStream()
	for i := range 20 {
		propose(t, s, fmt.Sprintf("after-%d", i))
	}
	if logHolds(gone, 0, "after-") {
		t.Fatal("the removed node took entries written after its removal")
	}
}
