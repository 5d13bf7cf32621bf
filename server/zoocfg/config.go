// Package zoocfg reads Apache ZooKeeper's zoo.cfg, so herd can start from the
// same file a ZooKeeper 3.8 server would use.
//
// The file is Java properties text. Keys herd acts on become typed fields with
// ZooKeeper's defaults; every other key is kept in Config.Extra for the caller
// to log as ignored.
package zoocfg

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/herd-io/herd/server/tlsconf"
)

// ErrInvalid is wrapped by every error about the content of a configuration.
var ErrInvalid = errors.New("invalid zoo.cfg")

// ZooKeeper's defaults for the typed fields.
const (
	DefaultTickTime       = 2000 * time.Millisecond
	DefaultMaxClientCnxns = 60
	DefaultJuteMaxBuffer  = 0xfffff
	DefaultMetricsPort    = 7000
	DefaultAdminPort      = 8080
	// MinSnapRetainCount is the fewest snapshots autopurge keeps.
	MinSnapRetainCount = 3
)

// PrometheusProvider is the metricsProvider.className of ZooKeeper's
// Prometheus metrics provider.
const PrometheusProvider = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"

// Roles a server.N line can give a member.
const (
	RoleParticipant = "participant"
	RoleObserver    = "observer"
)

// Config is a parsed zoo.cfg.
type Config struct {
	// TickTime is ZooKeeper's basic time unit (tickTime, milliseconds in the file).
	TickTime time.Duration
	// DataDir holds snapshots and, unless DataLogDir is set, the log.
	DataDir string
	// DataLogDir holds the transaction log; it defaults to DataDir.
	DataLogDir string
	// ClientPort is the port clients connect to; 0 when unset.
	ClientPort int
	// ClientPortAddress is the address to listen on; empty means all interfaces.
	ClientPortAddress string
	// SecurePort is secureClientPort, the TLS client port; 0 when unset.
	SecurePort int
	// SecurePortAddress is secureClientPortAddress; empty means all interfaces.
	SecurePortAddress string
	// TLS holds the ssl.* keys the secure port uses.
	TLS tlsconf.Options
	// PortUnification (client.portUnification) serves TLS and plain clients
	// on clientPort alike, with the TLS settings.
	PortUnification bool
	// MaxClientCnxns limits connections per client IP; 0 means no limit.
	MaxClientCnxns int
	// MinSessionTimeout and MaxSessionTimeout bound negotiated session timeouts
	// (defaults 2 and 20 ticks; -1 in the file also selects the default).
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// JuteMaxBuffer is the largest packet accepted (jute.maxbuffer).
	JuteMaxBuffer int
	// FourLetterWhitelist lists enabled four-letter words; "*" enables all.
	FourLetterWhitelist []string
	// SuperDigest is "super:<base64 sha1>" for the digest super user, or empty.
	SuperDigest string
	// ExtendedTypesEnabled turns on TTL nodes.
	ExtendedTypesEnabled bool
	// EnforceQuota refuses writes over hard quota limits (enforceQuota).
	EnforceQuota bool
	// PreAllocSize is the log preallocation block (preAllocSize, KiB in the
	// file; herd's log segment size). 0 when unset.
	PreAllocSize int
	// GlobalOutstandingLimit bounds requests in flight server-wide
	// (globalOutstandingLimit). 0 when unset.
	GlobalOutstandingLimit int
	// MaxQueuedBytes bounds the bytes held for clients server-wide
	// (herd.maxQueuedBytes, herd's own). 0 when unset.
	MaxQueuedBytes int
	// MaxOutboundBytes caps one connection's queued output
	// (herd.maxOutboundBytes, herd's own). 0 when unset.
	MaxOutboundBytes int
	// InitLimit and SyncLimit are in ticks, as in the file.
	InitLimit int
	SyncLimit int
	// Servers are the ensemble members by id; empty for a standalone server.
	// Lines from dynamicConfigFile are included.
	Servers map[int]Server
	// ReconfigEnabled allows the reconfig operation (reconfigEnabled).
	ReconfigEnabled bool
	// StandaloneEnabled (default true): a file with a single server line
	// runs a standalone server, as ZooKeeper does; false runs it as a
	// one-member ensemble that reconfig can grow.
	StandaloneEnabled bool
	// SnapRetainCount is autopurge.snapRetainCount: snapshots kept when
	// purging (default 3; smaller values are raised to 3, as ZooKeeper does).
	SnapRetainCount int
	// PurgeInterval is autopurge.purgeInterval in hours; 0 (the default)
	// turns ZooKeeper's purge task off.
	PurgeInterval int
	// SnapCount is how many transactions go into the log between snapshots
	// (snapCount); 0 means herd's default.
	SnapCount int
	// DynamicConfigFile is the file server.N lines were also read from.
	DynamicConfigFile string
	// MyID is this server's id, read from dataDir/myid by Load; 0 when unknown.
	MyID int
	// MetricsProvider is metricsProvider.className; herd serves Prometheus
	// metrics when it names ZooKeeper's Prometheus provider (PrometheusProvider).
	MetricsProvider string
	// MetricsHTTPHost and MetricsHTTPPort are where metrics are served
	// (defaults 0.0.0.0 and 7000).
	MetricsHTTPHost string
	MetricsHTTPPort int
	// MetricsExportRuntime adds Go's runtime and process metrics
	// (metricsProvider.exportJvmInfo, default true).
	MetricsExportRuntime bool
	// AdminEnabled runs the AdminServer (admin.enableServer, default true),
	// on AdminAddress:AdminPort (defaults 0.0.0.0 and 8080) with its commands
	// under AdminCommandURL (default /commands).
	AdminEnabled    bool
	AdminAddress    string
	AdminPort       int
	AdminCommandURL string
	// SlowRequest logs requests slower than this (herd.slowRequestMs, herd's
	// own); 0 means off.
	SlowRequest time.Duration
	// Extra holds every key herd does not act on, with its value.
	Extra map[string]string
	// Ignored lists the lines herd does not act on, in file order: the
	// caller warns about each (see Ignored.String).
	Ignored []Ignored
}

// Server is one server.N line: host:peerPort:electionPort[:role][;[clientHost:]clientPort].
type Server struct {
	Host         string
	PeerPort     int
	ElectionPort int
	// Role is RoleParticipant or RoleObserver.
	Role string
	// ClientAddr is "host:port" from the part after ';', or empty.
	ClientAddr string
}

// PeerAddr returns host:peerPort.
func (s Server) PeerAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.PeerPort)) }

// ElectionAddr returns host:electionPort.
func (s Server) ElectionAddr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.ElectionPort))
}

// Default returns a Config holding ZooKeeper's defaults and no data directory.
func Default() *Config {
	return &Config{
		TickTime:             DefaultTickTime,
		MaxClientCnxns:       DefaultMaxClientCnxns,
		MinSessionTimeout:    -1,
		MaxSessionTimeout:    -1,
		JuteMaxBuffer:        DefaultJuteMaxBuffer,
		FourLetterWhitelist:  []string{"srvr"},
		StandaloneEnabled:    true,
		SnapRetainCount:      3,
		MetricsHTTPHost:      "0.0.0.0",
		MetricsHTTPPort:      DefaultMetricsPort,
		MetricsExportRuntime: true,
		AdminEnabled:         true,
		AdminAddress:         "0.0.0.0",
		AdminPort:            DefaultAdminPort,
		AdminCommandURL:      "/commands",
		Servers:              map[int]Server{},
		Extra:                map[string]string{},
	}
}

// ClientAddr returns the address clients connect to, "host:port". Like
// ZooKeeper it listens on 0.0.0.0 when clientPortAddress is unset, and takes
// the address from this server's server.N line when clientPort is unset.
func (c *Config) ClientAddr() string {
	if c.ClientPort == 0 {
		if s, ok := c.Servers[c.MyID]; ok && s.ClientAddr != "" {
			return s.ClientAddr
		}
	}
	host := c.ClientPortAddress
	if host == "" {
		host = "0.0.0.0"
	}
	return net.JoinHostPort(host, strconv.Itoa(c.ClientPort))
}

// PrometheusEnabled reports whether metricsProvider.className names
// ZooKeeper's Prometheus provider.
func (c *Config) PrometheusEnabled() bool { return c.MetricsProvider == PrometheusProvider }

// MetricsAddr returns the metrics listen address, "host:port".
func (c *Config) MetricsAddr() string {
	return net.JoinHostPort(c.MetricsHTTPHost, strconv.Itoa(c.MetricsHTTPPort))
}

// AdminAddr returns the AdminServer's listen address, "host:port".
func (c *Config) AdminAddr() string {
	return net.JoinHostPort(c.AdminAddress, strconv.Itoa(c.AdminPort))
}

// SecureAddr returns the address of the TLS client port, "host:port", or ""
// when secureClientPort is unset.
func (c *Config) SecureAddr() string {
	if c.SecurePort == 0 {
		return ""
	}
	host := c.SecurePortAddress
	if host == "" {
		host = "0.0.0.0"
	}
	return net.JoinHostPort(host, strconv.Itoa(c.SecurePort))
}

// Distributed reports whether the file describes an ensemble: server.N
// lines, more than one or standaloneEnabled=false.
func (c *Config) Distributed() bool {
	return len(c.Servers) > 1 || (len(c.Servers) == 1 && !c.StandaloneEnabled)
}
