package cluster

import (
	"time"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/server/storage"
)

// Observers receive timings as they happen, for the server's metrics. Nil
// fields are not called. They run on Raft's goroutines and must be quick.
type Observers struct {
	// LogWrite gets the duration of each batch written (and synced) to the
	// Raft log (ZooKeeper's fsynctime).
	LogWrite func(time.Duration)
	// Snapshot gets the duration of each snapshot written (ZooKeeper's
	// snapshottime).
	Snapshot func(time.Duration)
}

// RaftStats are a node's Raft figures for monitoring.
type RaftStats struct {
	// Term is the current term; CommitIndex and AppliedIndex as Raft and
	// this node's state machine know them.
	Term, CommitIndex, AppliedIndex uint64
	// LastContact is how long ago the leader was last heard from: 0 on the
	// leader (and a standalone node), -1 when it never was.
	LastContact time.Duration
	// LastSnapshotIndex is the index the newest snapshot covers.
	LastSnapshotIndex uint64
	// LastSnapshotDuration is how long the newest snapshot taken since start
	// took to write; 0 before one.
	LastSnapshotDuration time.Duration
	// Log holds the running totals of this node's log writes since it
	// opened: how many entries share a write and an fsync.
	Log storage.LogCounters
}

// RaftStats returns the node's Raft figures now.
func (n *Node) RaftStats() RaftStats {
	st := RaftStats{Term: n.State().Term, AppliedIndex: n.AppliedIndex(), LastContact: -1,
		LastSnapshotDuration: time.Duration(n.fsm.lastSnapshot.Load()), Log: n.store.LogCounters()}
	if !n.started.Load() {
		return st
	}
	st.CommitIndex = n.raft.CommitIndex()
	if n.raft.State() == raft.Leader {
		st.LastContact = 0
	} else if t := n.raft.LastContact(); !t.IsZero() {
		st.LastContact = time.Since(t)
	}
	if snaps, err := n.store.Snapshots.List(); err == nil && len(snaps) > 0 {
		st.LastSnapshotIndex = snaps[0].Index
	}
	return st
}

// timedLogStore reports how long each log write takes, and that it happened
// (commit.go waits for entries to arrive); before each write it hands the
// batch to the leader's sending ahead (presend.go). It must keep every
// optional interface of the store it wraps: Raft asks the log store whether
// it is monotonic (raft-wal is) to compact it wholly after installing a
// snapshot; a wrapper that hid IsMonotonic would break a follower catching up
// by snapshot ("non-monotonic log entries").
type timedLogStore struct {
	raft.LogStore
	observe func(time.Duration) // nil for none
	stored  func(last uint64)   // after each write, with its last index; nil for none
	before  func([]*raft.Log)   // before each write; nil for none
}

// IsMonotonic implements raft.MonotonicLogStore for the wrapped store.
func (l timedLogStore) IsMonotonic() bool {
	ms, ok := l.LogStore.(raft.MonotonicLogStore)
	return ok && ms.IsMonotonic()
}

func (l timedLogStore) StoreLog(log *raft.Log) error { return l.StoreLogs([]*raft.Log{log}) }

func (l timedLogStore) StoreLogs(logs []*raft.Log) error {
	if l.before != nil {
		l.before(logs)
	}
	var start time.Time
	if l.observe != nil {
		start = time.Now()
	}
	err := l.LogStore.StoreLogs(logs)
	if l.observe != nil {
		l.observe(time.Since(start))
	}
	if err == nil && l.stored != nil && len(logs) > 0 {
		l.stored(logs[len(logs)-1].Index)
	}
	return err
}
