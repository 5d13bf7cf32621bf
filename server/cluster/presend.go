package cluster

import (
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Raft's leader writes an entry to its own log, fsync included, and only
// then sends it to the followers, which write it and fsync in turn: a write
// pays two fsyncs in series (hashicorp/raft v1.8.0, dispatchLogs). ZooKeeper
// overlaps them: its leader sends a proposal while it logs it.
//
// herd overlaps them too. Just before the leader's log write, it sends the
// batch over the herd connection of every follower that asked for entries
// (methodFollowEntries). The follower hands it to raft as the AppendEntries
// the leader will send once its write returns: the batch's entries, the
// entry before them as the previous one, and no commit index. Raft checks it
// as it checks any; a follower that does not follow the sender in that term,
// or whose log does not end where the batch begins, drops it. Either way it
// answers the leader, which then sends raft's own AppendEntries only for a
// batch not stored (aheadanswer.go); when that arrives, the follower's log
// may hold the entries already, and raft answers without a log write.
//
// Nothing changes in what commits an entry. The leader counts a follower
// only once its own write has returned, on raft's answer to the
// AppendEntries of those entries, or on the follower's answer that its raft
// stored them (aheadanswer.go); so a committed entry is still on the
// leader's disk and on a follower's. Entries a follower took early from a
// leader that then failed before its own write are uncommitted entries of
// that leader's term, as Raft allows: the next leader commits them or
// replaces them, and their proposers learn which (propose.go's doubt).
//
// Large batches are not sent ahead. Under load the leader batches many
// entries per write, its CPU is the limit, and sending them twice costs more
// than the overlap saves: on three nodes sharing two cores, with 63 writers
// (batches of about 20 entries), sending every batch ahead raised the CPU
// per create from 91 to 99 µs. A lock hand-off is a chain of single
// writes from few clients, whose batches are small: that is what the
// overlap is for.

// sendAheadEntries and sendAheadBytes bound a batch sent ahead.
const (
	sendAheadEntries = 8
	sendAheadBytes   = 256 << 10
)

// sendAhead reports whether leaders send entries ahead and followers ask for
// them; tests turn it off.
var sendAhead = true

// aheadBatch is a batch of entries a leader sent ahead of its log write.
type aheadBatch struct {
	leader         int
	term           uint64
	prev, prevTerm uint64 // the entry before the batch
	logs           []*raft.Log
	fw             *forwarder // the connection it came on, for its answer
}

// encodeAhead is the entries frame: term, the previous entry's index and
// term, the count, then each entry's index, term, type, time appended, data
// and extensions.
func encodeAhead(term, prev, prevTerm uint64, logs []*raft.Log) []byte {
	f := newFrame(msgEntries).u64(term).u64(prev).u64(prevTerm).u64(uint64(len(logs)))
	for _, l := range logs {
		f = f.u64(l.Index).u64(l.Term).u8(byte(l.Type)).u64(uint64(l.AppendedAt.UnixNano())).bytes(l.Data).bytes(l.Extensions)
	}
	return f.done()
}

// decodeAhead decodes an entries frame's body; the entries' data alias it.
func decodeAhead(leader int, body []byte) (aheadBatch, bool) {
	r := reader{b: body}
	b := aheadBatch{leader: leader, term: r.u64(), prev: r.u64(), prevTerm: r.u64()}
	count := r.u64()
	if r.err != nil || count == 0 || count > sendAheadEntries {
		return aheadBatch{}, false
	}
	b.logs = make([]*raft.Log, 0, count)
	for range count {
		l := &raft.Log{Index: r.u64(), Term: r.u64(), Type: raft.LogType(r.u8())}
		l.AppendedAt = time.Unix(0, int64(r.u64()))
		l.Data, l.Extensions = nilIfEmpty(r.bytes()), nilIfEmpty(r.bytes())
		if r.err != nil || l.Index != b.prev+1+uint64(len(b.logs)) || l.Term != b.term {
			return aheadBatch{}, false
		}
		b.logs = append(b.logs, l)
	}
	return b, r.err == nil && len(r.b) == 0
}

// nilIfEmpty keeps an entry's empty fields as raft's own transport gives
// them.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// sendEntriesAhead is called with each batch this node is about to write to
// its log. As leader, it sends a small batch to every follower that asked.
func (n *Node) sendEntriesAhead(logs []*raft.Log) {
	if !sendAhead || !n.started.Load() || len(logs) == 0 || len(logs) > sendAheadEntries ||
		n.raft.State() != raft.Leader {
		return
	}
	term := logs[0].Term
	size := 0
	for _, l := range logs {
		size += len(l.Data) + len(l.Extensions)
		if l.Term != term || size > sendAheadBytes {
			return
		}
	}
	if term != n.raft.CurrentTerm() {
		return
	}
	prev := logs[0].Index - 1
	if prev == 0 {
		return
	}
	last := logs[len(logs)-1].Index
	var f []byte
	n.peerMu.Lock()
	defer n.peerMu.Unlock()
	for pc := range n.peerConns {
		if !pc.wantsEntries.Load() {
			continue
		}
		// Raft replicates only to members; a removed one that still
		// follows must not be kept going by entries from here.
		if _, ok := n.member(pc.peer); !ok {
			continue
		}
		if f == nil {
			var prevLog raft.Log
			if n.logs.GetLog(prev, &prevLog) != nil {
				return // the previous entry is in a snapshot only
			}
			f = encodeAhead(term, prev, prevLog.Term, logs)
		}
		if n.aheadRuns == nil || !pc.answers.Load() {
			pc.trySend(f)
			continue
		}
		id := raft.ServerID(strconv.Itoa(pc.peer))
		n.aheadRuns.sent(id, term, prev+1, last, time.Now()) // before the answer can come
		if !pc.trySend(f) {
			n.aheadRuns.forget(id)
		}
	}
}

// learnAhead queues a batch the leader sent ahead; one that does not fit in
// the queue is dropped, and raft delivers its entries as usual.
func (n *Node) learnAhead(b aheadBatch) {
	select {
	case n.ahead <- b:
	default:
		b.answer(false)
	}
}

// runAhead gives raft the batches leaders sent ahead, in order, one at a
// time.
func (n *Node) runAhead(t *commitTransport) {
	defer n.wg.Done()
	resp := make(chan raft.RPCResponse, 1)
	for {
		var b aheadBatch
		select {
		case b = <-n.ahead:
		case <-n.done:
			return
		}
		if !n.waitForAhead(b) {
			b.answer(false)
			continue
		}
		addr, id := n.raft.LeaderWithID()
		req := &raft.AppendEntriesRequest{
			RPCHeader: t.leaderHeader(id, addr),
			Term:      b.term, PrevLogEntry: b.prev, PrevLogTerm: b.prevTerm, Entries: b.logs,
		}
		success, answered := n.giveRaft(t, req, resp)
		if !answered {
			return
		}
		if success {
			n.aheadGiven.Add(1)
		}
		b.answer(success)
	}
}

// waitForAhead waits until this node's log reaches the entry before b, and
// reports whether b is still worth giving raft: this node follows b's sender
// in b's term, its log does not yet hold all of b, and its entry before b is
// the sender's.
func (n *Node) waitForAhead(b aheadBatch) bool {
	last := b.logs[len(b.logs)-1].Index
	for {
		if !n.followsIn(b.leader, b.term) {
			return false
		}
		have := max(n.raft.LastIndex(), n.commits.stored.Load())
		if have >= last {
			return false // raft's own AppendEntries came first
		}
		if have >= b.prev {
			var prev raft.Log
			return n.logs.GetLog(b.prev, &prev) == nil && prev.Term == b.prevTerm
		}
		// The batch before this one is still on its way (or was dropped,
		// and raft will deliver it); logStored wakes this.
		select {
		case <-n.aheadWake:
		case <-time.After(max(n.timing.HeartbeatTimeout, 10*time.Millisecond)):
		case <-n.done:
			return false
		}
	}
}
