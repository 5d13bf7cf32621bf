package fourlw

import (
	"net/netip"
	"time"

	"github.com/herd-io/herd/server/proto"
)

// Source supplies the live data the commands print. Every method must be safe
// to call from the connection goroutine and should return a snapshot.
type Source interface {
	// Server returns server-wide statistics (srvr, stat, mntr, dirs).
	Server() ServerStats
	// Conns returns one entry per client connection (stat, cons, dump).
	// ZooKeeper also lists the connection running the command itself.
	Conns() []ConnStats
	// Conf returns the ordered key=value lines of conf (see ConfFromConfig).
	Conf() []KV
	// Env returns the ordered key=value lines of envi (see Environment).
	Env() []KV
	// Watches returns the data-watch summary for wchs.
	Watches() WatchStats
	// WatchList returns every data watch, for wchc and wchp.
	WatchList() []Watch
	// Sessions returns every session with its ephemeral nodes (dump).
	Sessions() []SessionInfo
	// ReadOnly reports whether the server is serving in read-only mode.
	ReadOnly() bool
}

// Resetter is implemented by sources that can reset statistics. Without it,
// crst and srst print nothing, as ZooKeeper does for a command it lacks.
type Resetter interface {
	// ResetConnStats clears every connection's counters and latencies (crst).
	ResetConnStats()
	// ResetServerStats clears server latencies and packet counts (srst).
	ResetServerStats()
}

// HealthReporter is implemented by sources that know whether the node is
// healthy. ruok answers imok only while Health returns nil, and otherwise
// nothing, as ZooKeeper's ruok does for a server not running in a non-error
// state: a coordination service that cannot write is not ok.
type HealthReporter interface {
	Health() error
}

// KV is one line of conf or envi output. A Bare line prints Key alone, which
// conf needs for its "membership: " header.
type KV struct {
	Key, Value string
	Bare       bool
}

// ServerStats is what srvr, stat, mntr and dirs report about the server.
type ServerStats struct {
	// Serving is false while the server cannot serve requests (no quorum,
	// starting up); most commands then print NotServing.
	Serving bool
	// Mode is "standalone", "leader", "follower", "observer" or "read-only".
	Mode string
	// Request latencies; srvr prints them in whole milliseconds, the average
	// rounded to 4 decimals.
	LatencyMin, LatencyAvg, LatencyMax time.Duration
	PacketsReceived, PacketsSent       int64
	// Connections is the number of open client connections.
	Connections int64
	// Outstanding is the number of requests queued and not yet answered.
	Outstanding int64
	// Zxid is the last applied zxid.
	Zxid      int64
	NodeCount int64
	Uptime    time.Duration
	// WatchCount counts data and child watches (mntr zk_watch_count).
	WatchCount          int64
	EphemeralsCount     int64
	ApproximateDataSize int64
	GlobalSessions      int64
	LocalSessions       int64
	AuthFailedCount     int64
	// File descriptors; mntr omits both when MaxFileDescriptors is 0. See
	// ProcessFileDescriptors.
	OpenFileDescriptors, MaxFileDescriptors int64
	// DataDirSize and LogDirSize are bytes on disk (dirs).
	DataDirSize, LogDirSize int64
	// QuorumSize is the number of voting members; 0 for standalone (mntr omits it).
	QuorumSize int64
	// Leader-only figures, printed when Mode is "leader". Proposal sizes are
	// bytes, -1 before the first proposal.
	Learners, SyncedFollowers, SyncedNonVotingFollowers, SyncedObservers, PendingSyncs int64
	ProposalSizeLast, ProposalSizeMin, ProposalSizeMax                                 int64
	// Summaries are ZooKeeper's latency summaries (readlatency,
	// updatelatency, fsynctime, election_time, ...), in milliseconds. mntr
	// prints each as avg_, min_, max_, cnt_ and sum_ lines, plus p50_, p95_,
	// p99_ and p999_ for those with quantiles.
	Summaries []Summary
	// FsyncThresholdExceeded counts log writes slower than ZooKeeper's
	// fsync.warningthresholdms default, 1s (srvr's JSON
	// fsync_threshold_exceed_count).
	FsyncThresholdExceeded int64
	// Raft holds herd's replication figures (mntr zk_herd_raft_* lines).
	Raft RaftStats
	// Metrics are extra mntr lines, keys without the "zk_" prefix, printed last.
	// Values print as given.
	Metrics []KV
}

// Summary is one of ZooKeeper's summary metrics: observations in
// milliseconds since the server started (or srst).
type Summary struct {
	// Name is ZooKeeper's metric name, e.g. "readlatency".
	Name string
	// Count and Sum are the number and total of observations; Min and Max
	// are 0 before the first.
	Count         int64
	Sum, Min, Max float64
	// Quantiles holds p50, p95, p99 and p999 for ZooKeeper's "advanced"
	// summaries; empty for the basic ones.
	Quantiles []Quantile
}

// Quantile is one estimated quantile of a Summary.
type Quantile struct {
	// Label is the mntr key prefix: "p50", "p95", "p99" or "p999".
	Label string
	// Q is the quantile (0.5, 0.95, ...) and Value its estimate.
	Q, Value float64
}

// RaftStats are herd's Raft figures; ZooKeeper has no equivalent.
type RaftStats struct {
	// Term is the current Raft term.
	Term uint64
	// CommitIndex is the highest log index known committed; AppliedIndex
	// the highest applied to the tree on this node.
	CommitIndex, AppliedIndex uint64
	// LastContact is how long ago the leader was last heard from; 0 on the
	// leader itself, -1 when there never was contact.
	LastContact time.Duration
	// LeaderChanges counts the leaders this node has seen since it started.
	LeaderChanges int64
	// LastSnapshotIndex is the index the newest snapshot covers and
	// LastSnapshotDuration how long writing it took (0 before the first).
	LastSnapshotIndex    uint64
	LastSnapshotDuration time.Duration
}

// ConnStats describes one client connection (stat, cons, dump).
type ConnStats struct {
	Remote netip.AddrPort
	// Queued is the number of requests received and not yet answered.
	Queued         int64
	Received, Sent int64
	// SessionID is 0 until the session is established; cons prints the
	// session fields only when it is set.
	SessionID int64
	// LastOp is the opcode of the last answered request; OpNotification (the
	// zero value) prints as NA.
	LastOp      proto.OpCode
	Established time.Time
	Timeout     time.Duration
	// LastCxid is the last client xid answered; negative values are omitted,
	// as ZooKeeper omits its initial -1.
	LastCxid int64
	// LastZxid is the zxid of the last response; ZooKeeper starts it at -1.
	LastZxid int64
	// LastResponse is printed as Unix milliseconds (ZooKeeper prints its own
	// monotonic clock, which has no meaning outside the JVM).
	LastResponse                                    time.Time
	LastLatency, MinLatency, AvgLatency, MaxLatency time.Duration
	// Expires is when the connection is next due to expire (dump); zero
	// means Established plus Timeout.
	Expires time.Time
}

// WatchStats summarises the data watches for wchs.
type WatchStats struct {
	// Connections is the number of connections holding a data watch.
	Connections int64
	// Paths is the number of watched paths.
	Paths int64
	// Total is the number of (connection, path) data watches.
	Total int64
}

// Watch is one data watch: a session watching a path.
type Watch struct {
	SessionID int64
	Path      string
}

// SessionInfo describes one session for dump.
type SessionInfo struct {
	ID      int64
	Timeout time.Duration
	// Expires is the session's current deadline; sessions sharing one are
	// printed as one set, as ZooKeeper's expiry buckets are.
	Expires    time.Time
	Ephemerals []string
}
