package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/herd-io/herd/server/fourlw"
)

// gauge is one figure of fourlw.ServerStats exported as a gauge.
type gauge struct {
	name string
	// when reports whether the node registers the gauge now; ZooKeeper
	// registers its leader figures only while leading and quorum_size only
	// in an ensemble.
	when  func(st *fourlw.ServerStats) bool
	value func(st *fourlw.ServerStats) float64
	// counter exports the figure as a counter (herd's own names only).
	counter bool
	help    string
}

func leading(st *fourlw.ServerStats) bool   { return st.Mode == "leader" }
func clustered(st *fourlw.ServerStats) bool { return st.QuorumSize > 0 }

// zkGauges are ZooKeeper 3.8's gauges herd fills, with its names; ZooKeeper
// gives each the help text of its own name.
var zkGauges = []gauge{
	{name: "avg_latency", value: func(st *fourlw.ServerStats) float64 { return float64(st.LatencyAvg.Microseconds()) / 1000 }},
	{name: "min_latency", value: func(st *fourlw.ServerStats) float64 { return float64(st.LatencyMin.Milliseconds()) }},
	{name: "max_latency", value: func(st *fourlw.ServerStats) float64 { return float64(st.LatencyMax.Milliseconds()) }},
	{name: "packets_received", value: func(st *fourlw.ServerStats) float64 { return float64(st.PacketsReceived) }},
	{name: "packets_sent", value: func(st *fourlw.ServerStats) float64 { return float64(st.PacketsSent) }},
	{name: "num_alive_connections", value: func(st *fourlw.ServerStats) float64 { return float64(st.Connections) }},
	{name: "outstanding_requests", value: func(st *fourlw.ServerStats) float64 { return float64(st.Outstanding) }},
	{name: "uptime", value: func(st *fourlw.ServerStats) float64 { return float64(st.Uptime.Milliseconds()) }},
	{name: "znode_count", value: func(st *fourlw.ServerStats) float64 { return float64(st.NodeCount) }},
	{name: "watch_count", value: func(st *fourlw.ServerStats) float64 { return float64(st.WatchCount) }},
	{name: "ephemerals_count", value: func(st *fourlw.ServerStats) float64 { return float64(st.EphemeralsCount) }},
	{name: "approximate_data_size", value: func(st *fourlw.ServerStats) float64 { return float64(st.ApproximateDataSize) }},
	{name: "global_sessions", value: func(st *fourlw.ServerStats) float64 { return float64(st.GlobalSessions) }},
	{name: "local_sessions", value: func(st *fourlw.ServerStats) float64 { return float64(st.LocalSessions) }},
	{name: "auth_failed_count", value: func(st *fourlw.ServerStats) float64 { return float64(st.AuthFailedCount) }},
	{name: "open_file_descriptor_count", when: func(st *fourlw.ServerStats) bool { return st.MaxFileDescriptors > 0 },
		value: func(st *fourlw.ServerStats) float64 { return float64(st.OpenFileDescriptors) }},
	{name: "max_file_descriptor_count", when: func(st *fourlw.ServerStats) bool { return st.MaxFileDescriptors > 0 },
		value: func(st *fourlw.ServerStats) float64 { return float64(st.MaxFileDescriptors) }},
	{name: "quorum_size", when: clustered, value: func(st *fourlw.ServerStats) float64 { return float64(st.QuorumSize) }},
	{name: "learners", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.Learners) }},
	{name: "synced_followers", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.SyncedFollowers) }},
	{name: "synced_non_voting_followers", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.SyncedNonVotingFollowers) }},
	{name: "synced_observers", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.SyncedObservers) }},
	{name: "pending_syncs", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.PendingSyncs) }},
	{name: "last_proposal_size", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.ProposalSizeLast) }},
	{name: "min_proposal_size", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.ProposalSizeMin) }},
	{name: "max_proposal_size", when: leading, value: func(st *fourlw.ServerStats) float64 { return float64(st.ProposalSizeMax) }},
}

// herdGauges are herd's Raft figures, which ZooKeeper has no names for.
var herdGauges = []gauge{
	{name: "herd_raft_term", help: "The current Raft term.",
		value: func(st *fourlw.ServerStats) float64 { return float64(st.Raft.Term) }},
	{name: "herd_raft_commit_index", help: "The highest Raft log index known to be committed.",
		value: func(st *fourlw.ServerStats) float64 { return float64(st.Raft.CommitIndex) }},
	{name: "herd_raft_applied_index", help: "The highest Raft log index applied to this node's tree.",
		value: func(st *fourlw.ServerStats) float64 { return float64(st.Raft.AppliedIndex) }},
	{name: "herd_raft_last_contact_seconds", help: "Seconds since the leader was last heard from; 0 on the leader, -1 before any contact.",
		value: func(st *fourlw.ServerStats) float64 {
			if st.Raft.LastContact < 0 {
				return -1
			}
			return st.Raft.LastContact.Seconds()
		}},
	{name: "herd_raft_leader_changes_total", counter: true, help: "Leaders this node has seen since it started.",
		value: func(st *fourlw.ServerStats) float64 { return float64(st.Raft.LeaderChanges) }},
	{name: "herd_raft_last_snapshot_index", help: "The Raft log index the newest snapshot covers.",
		value: func(st *fourlw.ServerStats) float64 { return float64(st.Raft.LastSnapshotIndex) }},
	{name: "herd_raft_last_snapshot_duration_seconds", help: "How long writing the newest snapshot took.",
		value: func(st *fourlw.ServerStats) float64 { return st.Raft.LastSnapshotDuration.Seconds() }},
}

// statsCollector turns one fourlw.ServerStats per scrape into gauges.
type statsCollector struct {
	stats func() fourlw.ServerStats
	descs map[string]*prometheus.Desc
}

func newStatsCollector(stats func() fourlw.ServerStats) *statsCollector {
	c := &statsCollector{stats: stats, descs: map[string]*prometheus.Desc{}}
	for _, g := range append(append([]gauge(nil), zkGauges...), herdGauges...) {
		help := g.help
		if help == "" {
			help = g.name
		}
		c.descs[g.name] = prometheus.NewDesc(g.name, help, nil, nil)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one ServerStats per scrape.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, g := range append(append([]gauge(nil), zkGauges...), herdGauges...) {
		if g.when != nil && !g.when(&st) {
			continue
		}
		kind := prometheus.GaugeValue
		if g.counter {
			kind = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(c.descs[g.name], kind, g.value(&st))
	}
}

// NewRegistry returns a registry holding the node's figures under
// ZooKeeper's names: the gauges read from stats at each scrape and the given
// summaries.
func NewRegistry(stats func() fourlw.ServerStats, summaries ...*Summary) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(newStatsCollector(stats))
	for _, s := range summaries {
		r.MustRegister(s)
	}
	return r
}

// Runtime returns a registry of Go's runtime and process metrics, which a
// scrape adds as ZooKeeper's provider adds the JVM's (exportJvmInfo).
func Runtime() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the gatherers' metrics in Prometheus's text format, at
// /metrics as ZooKeeper's provider serves them.
func Handler(gs ...prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers(gs), promhttp.HandlerOpts{})
}
