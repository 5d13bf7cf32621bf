package cluster

import (
	"runtime"

	"github.com/hashicorp/raft"
)

// A follower applies an entry, answers the write it forwarded and fires its
// clients' watches only once it learns the entry is committed, from the
// leader's next AppendEntries. hashicorp/raft sends one only when new entries
// arrive or every CommitTimeout to twice that: a lone write at a follower
// waited 5-10ms for it (herd bench on a follower: create p50 9.4ms against
// 0.8ms at the leader), and a lock hand-off, a chain of writes and watch
// events, waited that at each step (recipeLock on 3 nodes: 49-67 cycles/s,
// 210-237 with this). ZooKeeper's leader sends COMMIT at once; here the
// leader tells them after each batch it applies: with a commit message to
// each follower (commit.go), or, while some member is not subscribed to
// those, by appending a nudge entry, whose AppendEntries carries the new
// commit index. A nudge costs a log write and an fsync on every node, and
// under load one alone in a batch was a third of all fsyncs (3 nodes in
// one process, BenchmarkServers create and setData: 0.20-0.24 fsyncs per
// write with nudges, 0.13-0.15 with them turned off). At most one nudge is
// in flight, and a batch of nudges alone asks for none. It is a command
// entry, not raft's Barrier, because a leader answering Sync waits until it
// has applied its commit index, and the state machine wrapper counts only
// the entries raft hands it: commands and configurations.

// A nudge does not wait on a timer for a later entry to carry the commit
// index. It used to wait 100µs, but a Go timer under a millisecond fires
// about a millisecond late when the process is otherwise idle (the runtime
// sleeps in epoll_wait, whose timeout is in milliseconds: a 100µs timer
// fired after 0.8 / 1.1 / 1.4ms at p10 / p50 / p90), which is exactly when
// no other entry comes and the followers wait for the nudge; every write
// through a follower paid it (single-client create at a follower 3.2-3.6ms,
// 2.1-2.6ms without it). Yielding once lets a request that is already
// runnable here append first; under load an entry appended after the
// applied batch usually exists by then (extra entries per write with 64
// writers: 0.023-0.026 either way; with 4 writers 0.23-0.30 with the timer,
// 0.32-0.34 without).

// nudgeCommit asks the leader to tell its followers the commit index soon.
// It runs after a batch is applied here (its last entry at index, of term),
// so the entries raft appends from now on are sent with a commit index that
// covers the batch. It never blocks; requests made while a nudge is in
// flight are coalesced into one more.
func (n *Node) nudgeCommit(index, term uint64) {
	// Raft may apply entries before NewRaft has returned and n.raft is set
	// (the nemesis met this panic twice); started is stored after n.raft.
	if !n.started.Load() {
		return
	}
	if n.raft.State() != raft.Leader {
		return // followers apply every batch too; only a leader nudges
	}
	n.appliedMu.Lock()
	if index > n.appliedLast[0] {
		n.appliedLast = [2]uint64{index, term}
	}
	n.appliedMu.Unlock()
	last := n.raft.LastIndex()
	for {
		mark := n.nudgeMark.Load()
		if last <= mark || n.nudgeMark.CompareAndSwap(mark, last) {
			break
		}
	}
	select {
	case n.nudgeCh <- struct{}{}:
	default:
	}
}

// runNudges sends the commit messages and appends the nudges nudgeCommit
// asks for, one at a time, unless an entry appended after the applied batch
// carries the commit index anyway.
func (n *Node) runNudges() {
	defer n.wg.Done()
	for {
		select {
		case <-n.nudgeCh:
		case <-n.done:
			return
		}
		if n.raft.State() != raft.Leader {
			continue
		}
		runtime.Gosched()
		select {
		case <-n.done:
			return
		default:
		}
		if n.raft.LastIndex() > n.nudgeMark.Load() {
			continue // a later entry tells the followers
		}
		n.appliedMu.Lock()
		last := n.appliedLast
		n.appliedMu.Unlock()
		if n.tellCommit(n.raft.CurrentTerm(), last[0], last[1]) {
			continue // every other member is told
		}
		n.nudges.Add(1)
		// It resolves once applied here, or with an error when leadership
		// or the node is lost; either way the next may go. A nudge of a
		// past term is ignored by every replica.
		env := envelope{kind: kindNudge, node: n.self, incarnation: n.incarnation, term: n.raft.CurrentTerm()}
		_ = n.apply(env.encode()).Error()
	}
}
