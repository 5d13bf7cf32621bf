package cluster

import (
	"github.com/herd-io/herd/server/storage"

	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// Config configures a Node. Zero durations and counts take the documented
// defaults.
type Config struct {
	// ID is this server's id (zoo.cfg's myid). It must be one of Members when
	// Members is set; it may be 0 for a standalone node.
	ID int
	// Members are the zoo.cfg server.N lines. A fresh data directory is
	// bootstrapped with them (see Open); afterwards the replicated membership
	// wins, and reconfig changes it. Empty means a standalone node.
	Members []Member

	// DataDir holds the snapshots; DataLogDir the log (default DataDir).
	DataDir    string
	DataLogDir string

	// FSM is the replicated state machine. Required.
	FSM raft.FSM

	// Timing of elections; see Timing.
	Timing Timing

	// SnapshotThreshold is how many log entries may accumulate before a
	// snapshot is taken (zoo.cfg snapCount). Default 100000, as in ZooKeeper.
	SnapshotThreshold uint64
	// TrailingLogs is how many entries are kept after a snapshot, so that a
	// follower a little behind catches up from the log instead of a whole
	// snapshot. Default 10240.
	TrailingLogs uint64

	// LogSegmentSize is the size of one log file. The log is compacted a
	// whole file at a time, so entries behind a snapshot stay readable (and
	// are sent to a lagging follower instead of the snapshot) until their
	// file is dropped. Default storage.DefaultSegmentSize.
	LogSegmentSize int
	// SnapshotsRetained is how many snapshots the store keeps (storage.Options).
	SnapshotsRetained int

	// PeerListener and ElectionListener, when set, are used instead of
	// listening on this member's peer and election ports (tests open them on
	// 127.0.0.1:0 before the member list is known). Open takes ownership.
	PeerListener     net.Listener
	ElectionListener net.Listener

	// Faults, when set, lets a test cut this node from its peers.
	Faults *Faults

	// StorageFaults, when set, fails log file operations (a test's full
	// disk; storage.Options.FailWrite).
	StorageFaults func(op storage.Fault, file string) error

	// Handlers answer CallLeader on the leader, by method name.
	Handlers map[string]Handler

	// Logger receives the node's logs. Default: none.
	Logger *zap.Logger

	// Observers receive log-write and snapshot timings (metrics).
	Observers Observers
}

// Handler answers a call a member made to the leader with CallLeader. from is
// the caller's id. It runs on the leader only.
type Handler func(from int, body []byte) ([]byte, error)

// Timing holds Raft's timeouts. HeartbeatTimeout is how long a follower waits
// without hearing from the leader before it starts an election (each wait is
// randomised between one and two times it), ElectionTimeout the same for a
// candidate, LeaderLeaseTimeout how long a leader keeps leading without
// hearing from a quorum. They bound failover: a dead leader is replaced after
// one to two HeartbeatTimeouts plus an election.
//
// LeaderWait is how long a node without a leader holds a proposal or a call
// for the leader (and the server its clients) before it gives up: an
// election usually ends well within it, and clients are spared a reconnect.
type Timing struct {
	HeartbeatTimeout   time.Duration // default 150ms (standalone 100ms)
	ElectionTimeout    time.Duration // default 150ms (standalone 100ms)
	LeaderLeaseTimeout time.Duration // default 100ms (standalone 100ms)
	CommitTimeout      time.Duration // default 5ms
	LeaderWait         time.Duration // default 5×ElectionTimeout
}

// DefaultTiming is the timing of a cluster member.
var DefaultTiming = Timing{
	HeartbeatTimeout:   150 * time.Millisecond,
	ElectionTimeout:    150 * time.Millisecond,
	LeaderLeaseTimeout: 100 * time.Millisecond,
	CommitTimeout:      5 * time.Millisecond,
}

// standaloneTiming keeps a one-voter node's formal election short.
var standaloneTiming = Timing{
	HeartbeatTimeout:   100 * time.Millisecond,
	ElectionTimeout:    100 * time.Millisecond,
	LeaderLeaseTimeout: 100 * time.Millisecond,
	CommitTimeout:      5 * time.Millisecond,
}

func (t Timing) withDefaults(base Timing) Timing {
	if t.HeartbeatTimeout <= 0 {
		t.HeartbeatTimeout = base.HeartbeatTimeout
	}
	if t.ElectionTimeout <= 0 {
		t.ElectionTimeout = base.ElectionTimeout
	}
	if t.LeaderLeaseTimeout <= 0 {
		t.LeaderLeaseTimeout = min(base.LeaderLeaseTimeout, t.HeartbeatTimeout)
	}
	if t.CommitTimeout <= 0 {
		t.CommitTimeout = base.CommitTimeout
	}
	if t.LeaderWait <= 0 {
		t.LeaderWait = 5 * t.ElectionTimeout
	}
	return t
}

// Standalone reports whether the configuration describes a one-node server
// without peers.
func (c *Config) Standalone() bool { return len(c.Members) == 0 }

// self returns this node's own member line.
func (c *Config) self() (Member, bool) {
	for _, m := range c.Members {
		if m.ID == c.ID {
			return m, true
		}
	}
	return Member{}, false
}

func (c *Config) validate() error {
	if c.DataDir == "" {
		return errors.New("cluster: Config.DataDir is required")
	}
	if c.FSM == nil {
		return errors.New("cluster: Config.FSM is required")
	}
	if c.Standalone() {
		return nil
	}
	if c.ID <= 0 {
		return fmt.Errorf("cluster: %w: myid must be a positive server id in a cluster", ErrConfig)
	}
	seen := map[int]bool{}
	for _, m := range c.Members {
		if seen[m.ID] {
			return fmt.Errorf("cluster: %w: server.%d is given twice", ErrConfig, m.ID)
		}
		seen[m.ID] = true
	}
	if _, ok := c.self(); !ok {
		return fmt.Errorf("cluster: %w: myid %d is not among the server.N lines", ErrConfig, c.ID)
	}
	return nil
}
