package cluster

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// A follower answers every batch sent ahead (presend.go): stored, once raft
// has written it, or dropped. A stored answer says what raft's answer to its
// own AppendEntries of those entries would say, and the leader uses it in
// place of that round trip.
//
// Raft's replicator sends a follower an AppendEntries only once the leader's
// own log write has returned, and counts the follower when it answers
// Success. The transport waits for the follower's answers instead of
// sending it when every entry in it went ahead to that follower, in one run
// of batches of this term, and the follower's log is known to match the
// leader's up to the entry before them (raft's AppendEntries or the
// follower's answers said so in this term). If the follower stored the run
// up to the last entry, the transport answers Success for it; otherwise, or
// if no answer comes while one could still be fresh (half a heartbeat
// timeout after the batch was sent, see below) or the connection closes,
// it sends the AppendEntries after all.
//
// Why that commits nothing raft would not:
//   - The follower answers stored only after its raft accepted the batch as
//     an AppendEntries from this leader in this term, which raft does only
//     once the entries are in its log, fsync included, and its log matches
//     the leader's up to the batch's last entry. That is what raft's
//     Success says.
//   - Raft's commit rule counts a follower that stored the entries in the
//     leader's term, whatever it does afterwards; an answer that arrives
//     early is no different from a Success that arrives late.
//   - The replicator still runs only after the leader's write: a committed
//     entry is on the leader's disk and on a follower's, as before.
//
// Raft also takes a Success as the follower still following the leader
// (VerifyLeader, which Sync uses, and the leader lease). A stored answer
// vouches for that only while fresh (see aheadRuns.wait), and not at all
// once a leadership transfer begins, whose target followers vote for at
// once.
//
// What the spared AppendEntries would also have carried, and where it comes
// from instead: the follower's term (a higher one makes the leader step
// down) comes back on the next AppendEntries sent, as a follower in a later
// term drops every batch, and its drop ends the run; the commit index comes
// in commit messages (commit.go): the one sent after each applied batch,
// or, when that was skipped, one sent in place of the spared AppendEntries
// (commitForSpared). A follower answers only when it takes commit messages.
//
// Each answer is a frame on the follower's herd connection to the leader.
// A leader that does not know the frame would close the connection, so a
// follower sends answers only after the leader's reply to its
// methodFollowEntries call says that it takes them.

// answerAhead reports whether followers answer batches sent ahead and
// leaders wait for the answers; tests turn it off.
var answerAhead = true

// followEntriesCall is the id of a follower's methodFollowEntries call, so
// that its reply can be told from others.
const followEntriesCall = 1<<64 - 1

// takesAnswers is the body of a call to, or a reply from, methodFollowEntries
// that offers, or accepts, answers.
var takesAnswers = []byte{1}

// answer tells the leader that sent b whether raft stored it.
func (b aheadBatch) answer(stored bool) {
	fw := b.fw
	if fw == nil || !fw.answers.Load() {
		return
	}
	ok := byte(0)
	if stored {
		ok = 1
	}
	// Straight to the connection, not behind queued proposals: the leader's
	// write may be waiting for it. fw.pc was set before the batch was read.
	fw.pc.send(newFrame(msgStored).u64(b.term).u64(b.logs[len(b.logs)-1].Index).u8(ok).done())
}

// aheadRuns is the leader's record, per follower that answers, of the run
// of batches it sent that follower ahead and what the follower answered.
type aheadRuns struct {
	mu sync.Mutex
	// fresh is how long after a batch was sent a stored answer for it
	// vouches that the follower still follows this leader (see wait).
	fresh   time.Duration
	runs    map[raft.ServerID]*aheadRun
	matched map[raft.ServerID]termIndex // the peer's log matches the leader's up to index
	changed chan struct{}               // closed, and replaced, at every change
	expired atomic.Uint64               // waits that ended at their bound
}

type termIndex struct{ term, index uint64 }

// aheadRun is one follower's run: the entries from..to of term went to it
// ahead, batch after batch with none between, and it stored them up to
// stored (0 for none), the batch that ends there sent at storedAt.
type aheadRun struct {
	term, from, to, stored uint64
	storedAt               time.Time
	unanswered             []sentBatch // oldest first
}

// sentBatch is a batch sent ahead: its last index and when it was sent.
type sentBatch struct {
	last uint64
	at   time.Time
}

// maxUnanswered ends a run whose follower stopped answering.
const maxUnanswered = 64

func newAheadRuns(fresh time.Duration) *aheadRuns {
	return &aheadRuns{fresh: fresh, runs: map[raft.ServerID]*aheadRun{},
		matched: map[raft.ServerID]termIndex{}, changed: make(chan struct{})}
}

// broadcastLocked wakes every wait.
func (a *aheadRuns) broadcastLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// sent records entries first..last of term sent ahead to peer at at. Call
// it before sending, so that an answer cannot come before the record.
func (a *aheadRuns) sent(peer raft.ServerID, term, first, last uint64, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.runs[peer]
	switch {
	case r != nil && r.term == term && last <= r.to:
		return // sent before, on another connection to the same peer
	case r != nil && r.term == term && first == r.to+1:
		r.to = last
	default:
		if r != nil {
			a.broadcastLocked() // a wait on the old run ends
		}
		r = &aheadRun{term: term, from: first, to: last}
		a.runs[peer] = r
	}
	r.unanswered = append(r.unanswered, sentBatch{last: last, at: at})
	if len(r.unanswered) > maxUnanswered {
		delete(a.runs, peer)
		a.broadcastLocked()
	}
}

// answered records peer's answer for the batch of term ending at last. A
// dropped batch ends the run: the follower cannot store the batches after
// it until raft's own AppendEntries brings the missing entries.
func (a *aheadRuns) answered(peer raft.ServerID, term, last uint64, stored bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.runs[peer]
	if r == nil || r.term != term {
		return
	}
	var at time.Time
	for len(r.unanswered) > 0 && r.unanswered[0].last <= last {
		if r.unanswered[0].last == last {
			at = r.unanswered[0].at
		}
		r.unanswered = r.unanswered[1:]
	}
	if at.IsZero() {
		return // not a batch of this run
	}
	if stored {
		r.stored, r.storedAt = last, at
		a.confirmLocked(peer, term, last)
	} else {
		delete(a.runs, peer)
	}
	a.broadcastLocked()
}

// confirm records that peer's log matches this leader's, of term, up to
// index (raft's own AppendEntries succeeded).
func (a *aheadRuns) confirm(peer raft.ServerID, term, index uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.confirmLocked(peer, term, index)
}

func (a *aheadRuns) confirmLocked(peer raft.ServerID, term, index uint64) {
	if m := a.matched[peer]; m.term < term || m.term == term && m.index < index {
		a.matched[peer] = termIndex{term, index}
	}
}

// forget ends peer's run and what is known of its log (a connection closed,
// a send failed, or raft's AppendEntries found the logs differ).
func (a *aheadRuns) forget(peer raft.ServerID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.matched, peer)
	if _, ok := a.runs[peer]; ok {
		delete(a.runs, peer)
		a.broadcastLocked()
	}
}

// wait reports whether peer stored entries first..last of term, waiting for
// its answers while they are all in its run and its log is known to match
// up to the entry before them (a follower whose log is shorter cannot store
// them, and would not say so until raft's AppendEntries, the one being held,
// brought what it lacks). It waits at most until the answer it needs could
// no longer be fresh, or until done closes.
//
// The answer must be fresh: raft counts a Success as the follower still
// following this leader (VerifyLeader, the leader lease). A follower that
// took a batch as an AppendEntries refuses any other candidate's vote for a
// heartbeat timeout after (raft's follower loop), and it took the batch
// after the leader sent it; so within fresh of the send it has not helped
// elect another leader.
func (a *aheadRuns) wait(peer raft.ServerID, term, first, last uint64, done <-chan struct{}) bool {
	var timeout <-chan time.Time
	for {
		a.mu.Lock()
		r, m := a.runs[peer], a.matched[peer]
		if r == nil || r.term != term || first < r.from || last > r.to || m.term != term || m.index+1 < first {
			a.mu.Unlock()
			return false
		}
		if r.stored >= last {
			fresh := time.Since(r.storedAt) < a.fresh
			a.mu.Unlock()
			return fresh
		}
		var sentAt time.Time // of the batch holding last, whose answer is needed
		for _, b := range r.unanswered {
			if b.last >= last {
				sentAt = b.at
				break
			}
		}
		changed := a.changed
		a.mu.Unlock()
		if sentAt.IsZero() {
			return false // its answer came, and it was not stored
		}
		if timeout == nil {
			t := time.NewTimer(time.Until(sentAt.Add(a.fresh)))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-changed:
		case <-timeout:
			a.expired.Add(1)
			return false
		case <-done:
			return false
		}
	}
}

// AppendEntries implements raft.Transport: it answers for a follower whose
// answers show it stored every entry of args (see above), and sends args
// otherwise.
func (t *commitTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	a := t.runs
	if a == nil || t.handingOver.Load() {
		return t.NetworkTransport.AppendEntries(id, target, args, resp)
	}
	last := args.PrevLogEntry
	if len(args.Entries) > 0 {
		first := args.Entries[0].Index
		last = args.Entries[len(args.Entries)-1].Index
		if a.wait(id, args.Term, first, last, t.done) {
			*resp = raft.AppendEntriesResponse{
				RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(id), Addr: []byte(target)},
				Term:      args.Term, LastLog: last, Success: true,
			}
			t.spared.Add(1)
			if t.spare != nil {
				t.spare(id, args)
			}
			return nil
		}
	}
	err := t.NetworkTransport.AppendEntries(id, target, args, resp)
	switch {
	case err != nil:
	case resp.Success:
		a.confirm(id, args.Term, last)
	default:
		a.forget(id)
	}
	return err
}
