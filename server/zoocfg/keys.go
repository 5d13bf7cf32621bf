package zoocfg

import (
	"fmt"
	"sort"
	"strings"

	"github.com/herd-io/herd/server/tlsconf"
)

// Key is one zoo.cfg key herd knows: the keys it acts on (Honoured) and
// ZooKeeper 3.8's keys it accepts but ignores. Keys is the one list of them;
// the README's configuration table is checked against it (keys_test.go), so
// a key added here shows up there.
type Key struct {
	// Name is the key as written in zoo.cfg. A name ending in "*" stands for
	// every key with that prefix (server.*).
	Name string
	// Honoured reports whether herd acts on the key. A key that is not is
	// logged as ignored (an error under herd serve --strict).
	Honoured bool
	// Doc says what the key does in herd (for the README table), or why it
	// is ignored.
	Doc string
	// set stores the value; nil for keys herd ignores.
	set func(c *Config, value string) error
}

// Keys are the zoo.cfg keys herd knows, honoured first. Keep one line per
// key; the README table follows this order.
var Keys = []Key{
	{Name: "tickTime", Honoured: true, Doc: "basic time unit in ms; bounds session timeouts, expiry checked each tick (default 2000)",
		set: func(c *Config, v string) (err error) { c.TickTime, err = millis(v); return }},
	{Name: "dataDir", Honoured: true, Doc: "Raft log, stable store and snapshots (required); holds myid in a cluster",
		set: func(c *Config, v string) error { c.DataDir = v; return nil }},
	{Name: "dataLogDir", Honoured: true, Doc: "Raft log on its own disk (default dataDir)",
		set: func(c *Config, v string) error { c.DataLogDir = v; return nil }},
	{Name: "clientPort", Honoured: true, Doc: "client port",
		set: func(c *Config, v string) (err error) { c.ClientPort, err = port(v, true); return }},
	{Name: "clientPortAddress", Honoured: true, Doc: "client listen address (default all interfaces)",
		set: func(c *Config, v string) error { c.ClientPortAddress = v; return nil }},
	{Name: "secureClientPort", Honoured: true, Doc: "TLS client port, beside clientPort",
		set: func(c *Config, v string) (err error) { c.SecurePort, err = port(v, true); return }},
	{Name: "secureClientPortAddress", Honoured: true, Doc: "TLS client listen address (default all interfaces)",
		set: func(c *Config, v string) error { c.SecurePortAddress = v; return nil }},
	{Name: "client.portUnification", Honoured: true, Doc: "serve TLS and plain clients on clientPort alike (default false)",
		set: func(c *Config, v string) (err error) { c.PortUnification, err = boolean(v); return }},
	{Name: "ssl.keyStore.location", Honoured: true, Doc: "the server's certificate and key, PEM",
		set: func(c *Config, v string) error { c.TLS.KeyStore = v; return nil }},
	{Name: "ssl.keyStore.type", Honoured: true, Doc: "PEM (herd reads PEM files only)",
		set: func(c *Config, v string) error { c.TLS.KeyStoreType = v; return nil }},
	{Name: "ssl.trustStore.location", Honoured: true, Doc: "CA certificates that client certificates must chain to, PEM",
		set: func(c *Config, v string) error { c.TLS.TrustStore = v; return nil }},
	{Name: "ssl.trustStore.type", Honoured: true, Doc: "PEM (herd reads PEM files only)",
		set: func(c *Config, v string) error { c.TLS.TrustStoreType = v; return nil }},
	// Read for PEM files only when a key is encrypted, which herd refuses
	// (tlsconf); consumed so a secret is never logged as ignored.
	{Name: "ssl.keyStore.password", Honoured: true, Doc: "accepted, never logged; encrypted PEM keys are refused",
		set: func(*Config, string) error { return nil }},
	{Name: "ssl.trustStore.password", Honoured: true, Doc: "accepted, never logged",
		set: func(*Config, string) error { return nil }},
	{Name: "ssl.clientAuth", Honoured: true, Doc: "client certificates: none, want or need (default need, as ZooKeeper)",
		set: func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "", tlsconf.ClientAuthNone, tlsconf.ClientAuthWant, tlsconf.ClientAuthNeed:
				c.TLS.ClientAuth = v
				return nil
			}
			return fmt.Errorf("%w: %q is not none, want or need", ErrInvalid, v)
		}},
	{Name: "maxClientCnxns", Honoured: true, Doc: "connections per client IP; 0 = unlimited (default 60)",
		set: func(c *Config, v string) (err error) { c.MaxClientCnxns, err = nonNegative(v); return }},
	{Name: "minSessionTimeout", Honoured: true, Doc: "lowest negotiated session timeout, ms (default 2 ticks)",
		set: func(c *Config, v string) (err error) { c.MinSessionTimeout, err = millis(v); return }},
	{Name: "maxSessionTimeout", Honoured: true, Doc: "highest negotiated session timeout, ms (default 20 ticks)",
		set: func(c *Config, v string) (err error) { c.MaxSessionTimeout, err = millis(v); return }},
	{Name: "jute.maxbuffer", Honoured: true, Doc: "largest request accepted, bytes (default 0xfffff)",
		set: func(c *Config, v string) (err error) { c.JuteMaxBuffer, err = positive(v); return }},
	{Name: "4lw.commands.whitelist", Honoured: true, Doc: "four-letter words allowed, comma-separated or * (default srvr)",
		set: func(c *Config, v string) error { c.FourLetterWhitelist = splitList(v); return nil }},
	{Name: "DigestAuthenticationProvider.superDigest", Honoured: true, Doc: "super:<base64 sha1> of the digest super user",
		set: func(c *Config, v string) error {
			if v != "" && !strings.Contains(v, ":") {
				return fmt.Errorf("%w: want user:base64digest, got %q", ErrInvalid, v)
			}
			c.SuperDigest = v
			return nil
		}},
	{Name: "extendedTypesEnabled", Honoured: true, Doc: "TTL nodes (default false)",
		set: func(c *Config, v string) (err error) { c.ExtendedTypesEnabled, err = boolean(v); return }},
	{Name: "enforceQuota", Honoured: true, Doc: "refuse writes over hard quota limits with QuotaExceeded (default false)",
		set: func(c *Config, v string) (err error) { c.EnforceQuota, err = boolean(v); return }},
	{Name: "preAllocSize", Honoured: true, Doc: "Raft log segment size, KiB (default 16384)",
		set: func(c *Config, v string) error {
			kib, err := positive(v)
			c.PreAllocSize = kib << 10
			return err
		}},
	{Name: "globalOutstandingLimit", Honoured: true, Doc: "requests in flight server-wide before reading slows (default 1000)",
		set: func(c *Config, v string) (err error) { c.GlobalOutstandingLimit, err = positive(v); return }},
	{Name: "autopurge.snapRetainCount", Honoured: true, Doc: "snapshots kept when purging (default 3; smaller values are raised to 3)",
		set: func(c *Config, v string) error {
			n, err := integer(v)
			c.SnapRetainCount = max(n, MinSnapRetainCount) // ZooKeeper raises a smaller count to 3
			return err
		}},
	{Name: "autopurge.purgeInterval", Honoured: true, Doc: "hours; > 0 purges old snapshots and logs (herd at each snapshot; default 0 = off)",
		set: func(c *Config, v string) (err error) { c.PurgeInterval, err = integer(v); return }},
	{Name: "snapCount", Honoured: true, Doc: "log entries between snapshots (default 100000)",
		set: func(c *Config, v string) (err error) { c.SnapCount, err = positive(v); return }},
	{Name: "initLimit", Honoured: true, Doc: "required in an ensemble, as ZooKeeper requires it; herd's Raft timeouts decide failure detection",
		set: func(c *Config, v string) (err error) { c.InitLimit, err = nonNegative(v); return }},
	{Name: "syncLimit", Honoured: true, Doc: "required in an ensemble, as initLimit",
		set: func(c *Config, v string) (err error) { c.SyncLimit, err = nonNegative(v); return }},
	{Name: "server.*", Honoured: true, Doc: "ensemble member: host:peerPort:electionPort[:participant|:observer][;[clientHost:]clientPort]",
		set: nil /* setServer, by prefix */},
	{Name: "dynamicConfigFile", Honoured: true, Doc: "file with more server.N lines",
		set: func(c *Config, v string) error { c.DynamicConfigFile = v; return nil }},
	{Name: "reconfigEnabled", Honoured: true, Doc: "allow the reconfig operation (default false)",
		set: func(c *Config, v string) (err error) { c.ReconfigEnabled, err = boolean(v); return }},
	{Name: "standaloneEnabled", Honoured: true, Doc: "false runs a single server.N line as a one-member ensemble (default true)",
		set: func(c *Config, v string) (err error) { c.StandaloneEnabled, err = boolean(v); return }},
	{Name: "metricsProvider.className", Honoured: true, Doc: "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider serves Prometheus metrics",
		set: func(c *Config, v string) error { c.MetricsProvider = v; return nil }},
	{Name: "metricsProvider.httpHost", Honoured: true, Doc: "metrics listen address (default 0.0.0.0)",
		set: func(c *Config, v string) error { c.MetricsHTTPHost = v; return nil }},
	{Name: "metricsProvider.httpPort", Honoured: true, Doc: "metrics port (default 7000)",
		set: func(c *Config, v string) (err error) { c.MetricsHTTPPort, err = port(v, true); return }},
	{Name: "metricsProvider.exportJvmInfo", Honoured: true, Doc: "export the process's runtime metrics (Go's, not a JVM's; default true)",
		set: func(c *Config, v string) (err error) { c.MetricsExportRuntime, err = boolean(v); return }},
	{Name: "admin.enableServer", Honoured: true, Doc: "the AdminServer and web view (default true)",
		set: func(c *Config, v string) (err error) { c.AdminEnabled, err = boolean(v); return }},
	{Name: "admin.serverAddress", Honoured: true, Doc: "AdminServer listen address (default 0.0.0.0)",
		set: func(c *Config, v string) error { c.AdminAddress = v; return nil }},
	{Name: "admin.serverPort", Honoured: true, Doc: "AdminServer port (default 8080)",
		set: func(c *Config, v string) (err error) { c.AdminPort, err = port(v, true); return }},
	{Name: "admin.commandURL", Honoured: true, Doc: "where the AdminServer's commands live (default /commands)",
		set: func(c *Config, v string) error { c.AdminCommandURL = v; return nil }},
	{Name: "herd.maxQueuedBytes", Honoured: true, Doc: "herd's own: bytes held for clients server-wide (default 64 MiB)",
		set: func(c *Config, v string) (err error) { c.MaxQueuedBytes, err = positive(v); return }},
	{Name: "herd.maxOutboundBytes", Honoured: true, Doc: "herd's own: one connection's queued output (default 1 MiB)",
		set: func(c *Config, v string) (err error) { c.MaxOutboundBytes, err = positive(v); return }},
	{Name: "herd.slowRequestMs", Honoured: true, Doc: "herd's own: warn about requests slower than this, ms (default 0 = off)",
		set: func(c *Config, v string) (err error) { c.SlowRequest, err = millis(v); return }},

	// ZooKeeper 3.8 keys herd accepts and ignores.
	{Name: "admin.idleTimeout", Doc: "ignored: herd's AdminServer uses Go's defaults"},
	{Name: "admin.portUnification", Doc: "ignored: no TLS on the AdminServer"},
	{Name: "authProvider.*", Doc: "ignored: herd has digest, ip and super authentication built in"},
	{Name: "clientPortListenBacklog", Doc: "ignored: the OS default backlog is used"},
	{Name: "cnxTimeout", Doc: "ignored: herd's Raft transport has its own timeouts"},
	{Name: "electionAlg", Doc: "ignored: Raft elects the leader"},
	{Name: "electionPortBindRetry", Doc: "ignored"},
	{Name: "forceSync", Doc: "ignored: the Raft log always syncs"},
	{Name: "fsync.warningthresholdms", Doc: "ignored: see herd.slowRequestMs and the fsynctime metric"},
	{Name: "group.*", Doc: "ignored: no hierarchical quorums"},
	{Name: "leaderServes", Doc: "ignored: every member serves clients"},
	{Name: "localSessionsEnabled", Doc: "ignored: every session is global"},
	{Name: "localSessionsUpgradingEnabled", Doc: "ignored: every session is global"},
	{Name: "maxCnxns", Doc: "ignored: see maxClientCnxns"},
	{Name: "metricsProvider.numWorkerThreads", Doc: "ignored"},
	{Name: "metricsProvider.maxQueueSize", Doc: "ignored"},
	{Name: "metricsProvider.workerShutdownTimeoutMs", Doc: "ignored"},
	{Name: "multiAddress.enabled", Doc: "ignored: one address per member"},
	{Name: "quorumListenOnAllIPs", Doc: "ignored"},
	{Name: "serverCnxnFactory", Doc: "ignored"},
	{Name: "skipACL", Doc: "ignored: ACLs are always checked"},
	{Name: "snapSizeLimitInKb", Doc: "ignored: see snapCount"},
	{Name: "syncEnabled", Doc: "ignored: observers always keep a log"},
	{Name: "txnLogSizeLimitInKb", Doc: "ignored"},
	{Name: "weight.*", Doc: "ignored: no hierarchical quorums"},
	{Name: "zookeeper.*", Doc: "ignored unless one of the keys above follows the prefix"},
}

// lookupKey finds the entry for key, by exact name or by prefix.
func lookupKey(key string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == key {
			return k, true
		}
	}
	for _, k := range Keys {
		if p, ok := strings.CutSuffix(k.Name, "*"); ok && strings.HasPrefix(key, p) {
			return k, true
		}
	}
	return Key{}, false
}

// Ignored is a zoo.cfg line herd does not act on.
type Ignored struct {
	Key, Value string
	// Line is the line number in the file.
	Line int
	// Known reports a ZooKeeper key herd does not honour; otherwise the key
	// is unknown (misspelled, or from a newer ZooKeeper).
	Known bool
	// Suggestion is the known key closest to an unknown one, or "".
	Suggestion string
}

// String describes the line for a warning: it names the key and the line.
func (ig Ignored) String() string {
	if ig.Known {
		return fmt.Sprintf("line %d: %s is a ZooKeeper setting herd does not honour; ignored", ig.Line, ig.Key)
	}
	s := fmt.Sprintf("line %d: %s is not a setting herd knows", ig.Line, ig.Key)
	if ig.Suggestion != "" {
		s += fmt.Sprintf(" (did you mean %s?)", ig.Suggestion)
	}
	return s + "; ignored"
}

// suggest returns the honoured key closest to key in edit distance (ignoring
// case), if it is close enough to be a misspelling.
func suggest(key string) string {
	best, bestD := "", len(key)/3+1
	lk := strings.ToLower(key)
	for _, k := range Keys {
		if strings.HasSuffix(k.Name, "*") {
			continue
		}
		if d := distance(lk, strings.ToLower(k.Name)); d < bestD {
			best, bestD = k.Name, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// KeyTable returns the README's configuration table (Markdown) for Keys.
func KeyTable() string {
	var b strings.Builder
	b.WriteString("| key | honoured | what herd does with it |\n|---|---|---|\n")
	keys := append([]Key(nil), Keys...)
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Honoured && !keys[j].Honoured })
	for _, k := range keys {
		h := "no"
		if k.Honoured {
			h = "yes"
		}
		b.WriteString("| `" + k.Name + "` | " + h + " | " + strings.ReplaceAll(k.Doc, "|", "\\|") + " |\n")
	}
	return b.String()
}
