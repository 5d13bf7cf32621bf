package server

import (
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/storage"
)

// Config holds a node's settings. The zero value of every field means
// ZooKeeper's default; see each field.
type Config struct {
	// DataDir holds the Raft log, the stable store and snapshots. Required.
	DataDir string

	// DataLogDir holds the Raft log if set (dataLogDir: put it on its own
	// disk so log fsyncs do not queue behind snapshot writes). Default DataDir.
	DataLogDir string

	// TickTime is ZooKeeper's basic time unit: session timeouts are bounded by
	// multiples of it and expiry is checked once per tick. Default 2s.
	TickTime time.Duration

	// MinSessionTimeout and MaxSessionTimeout bound the timeout a client may
	// negotiate. Defaults 2×TickTime and 20×TickTime.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration

	// MaxClientCnxns limits concurrent connections from one IP address; 0 means
	// no limit. ZooKeeper's zoo.cfg default is 60.
	MaxClientCnxns int

	// MaxBuffer is jute.maxbuffer: the largest request accepted, in bytes. A
	// longer frame closes the connection. Default 0xfffff (1 MiB − 1).
	MaxBuffer int

	// FourLetterWords lists the four-letter commands that may run ("*" for all).
	// Default: srvr only, as ZooKeeper 3.8.
	FourLetterWords []string

	// SuperDigest is DigestAuthenticationProvider.superDigest ("super:<base64
	// sha1>"): a client authenticated with the matching digest bypasses ACLs.
	SuperDigest string

	// ExtendedTypes enables TTL nodes (zookeeper.extendedTypesEnabled).
	ExtendedTypes bool
	// EnforceQuota refuses writes over a hard quota limit with QuotaExceeded
	// (zoo.cfg enforceQuota). Every member of a cluster must agree.
	EnforceQuota bool

	// ContainerCheckInterval is how often the leader reaps empty containers and
	// expired TTL nodes. Default 60s (znode.container.checkIntervalMs).
	ContainerCheckInterval time.Duration

	// MaxOutboundBytes caps a connection's queued, unsent output: while it is
	// reached the connection's requests are not answered (so not read either)
	// until the client reads. Watch notifications, which cannot wait, close
	// a connection whose queue exceeds 8 times it (a slow consumer).
	// Default 1 MiB (zoo.cfg herd.maxOutboundBytes).
	MaxOutboundBytes int

	// LogSegmentSize is the size of one Raft log segment file, allocated
	// whole when created (zoo.cfg preAllocSize, in KiB there). A node needs
	// room for one segment to start and one more, kept in reserve, so that
	// rotating to a new segment never waits for free space. Default 16 MiB;
	// at least 64 KiB.
	LogSegmentSize int

	// MaxOutstandingRequests is globalOutstandingLimit: requests read but not
	// yet answered, server-wide. Past it the server stops reading from the
	// connections that hold the most (TCP then pushes back on those clients)
	// while the others are served. Default 1000 (zoo.cfg globalOutstandingLimit).
	MaxOutstandingRequests int

	// MaxQueuedBytes bounds the bytes the server holds for clients,
	// server-wide: request frames not yet answered plus output not yet sent
	// (zoo.cfg herd.maxQueuedBytes). Past it, as past MaxOutstandingRequests,
	// connections holding more than a small share are neither read nor
	// answered until they drain. Default 64 MiB.
	MaxQueuedBytes int

	// ServerID is this node's id (myid); 0 for a standalone server.
	ServerID int

	// Servers are the ensemble's members (zoo.cfg server.N lines), this node
	// among them. Empty for a standalone server. See cluster.Open for how a
	// fresh data directory joins or bootstraps a cluster.
	Servers []cluster.Member

	// Raft holds the election timeouts of a cluster member. Zero fields take
	// cluster.DefaultTiming: a dead leader is replaced within about half a
	// second on loopback.
	Raft cluster.Timing

	// ReconfigEnabled allows the reconfig operation (zoo.cfg reconfigEnabled,
	// default false as in ZooKeeper). Only the super user may reconfigure.
	ReconfigEnabled bool

	// PeerListener and ElectionListener, when set, are this member's Raft and
	// peer listeners, opened by the caller (tests listen on 127.0.0.1:0
	// before the member list is known). The server owns them.
	PeerListener, ElectionListener net.Listener

	// PeerFaults, when set, lets a test cut this node from its peers.
	PeerFaults *cluster.Faults

	// SnapCount is how many log entries accumulate before a snapshot
	// (zoo.cfg snapCount). Default 100000, as in ZooKeeper.
	SnapCount int

	// SnapshotsRetained is how many snapshots are kept on disk (zoo.cfg
	// autopurge.snapRetainCount when autopurge.purgeInterval is set);
	// older ones, and the log before the oldest kept, are purged as each new
	// snapshot is taken. Default 2; at least 2.
	SnapshotsRetained int

	// TrailingLogs is how many log entries are kept behind a snapshot, so a
	// node a little behind catches up from the log rather than a whole
	// snapshot. Default 10240.
	TrailingLogs int

	// SlowRequest, when positive, logs a warning for each request answered
	// later than this after it arrived (zoo.cfg herd.slowRequestMs).
	SlowRequest time.Duration

	// Logger receives the server's logs. Default: no logging.
	Logger *zap.Logger

	// storageFaults, set by tests, fails log file operations (storage.Options.FailWrite).
	storageFaults func(op storage.Fault, file string) error
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.DataLogDir == "" {
		out.DataLogDir = out.DataDir
	}
	if out.TickTime <= 0 {
		out.TickTime = 2 * time.Second
	}
	if out.MinSessionTimeout <= 0 {
		out.MinSessionTimeout = 2 * out.TickTime
	}
	if out.MaxSessionTimeout <= 0 {
		out.MaxSessionTimeout = 20 * out.TickTime
	}
	if out.MaxBuffer <= 0 {
		out.MaxBuffer = proto.DefaultMaxBuffer
	}
	if out.FourLetterWords == nil {
		out.FourLetterWords = []string{"srvr"}
	}
	if out.ContainerCheckInterval <= 0 {
		out.ContainerCheckInterval = time.Minute
	}
	if out.MaxOutboundBytes <= 0 {
		out.MaxOutboundBytes = 1 << 20
	}
	if out.MaxOutstandingRequests <= 0 {
		out.MaxOutstandingRequests = 1000
	}
	if out.MaxQueuedBytes <= 0 {
		out.MaxQueuedBytes = 64 << 20
	}
	if out.Logger == nil {
		out.Logger = zap.NewNop()
	}
	return out
}
