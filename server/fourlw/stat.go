package fourlw

import (
	"strconv"
	"strings"
)

// srvr renders srvr, or stat when withClients is set (StatCommand).
func srvr(st ServerStats, src Source, withClients bool) string {
	var b strings.Builder
	b.WriteString("Zookeeper version: " + FullVersion() + "\n")
	if src.ReadOnly() {
		b.WriteString("READ-ONLY mode; serving only read-only clients\n")
	}
	if withClients {
		b.WriteString("Clients:\n")
		for _, c := range src.Conns() {
			b.WriteString(connLine(c, true))
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("Latency min/avg/max: " + itoa(millis(st.LatencyMin)) + "/" + avgMillis(st.LatencyAvg) + "/" +
		itoa(millis(st.LatencyMax)) + "\n")
	b.WriteString("Received: " + itoa(st.PacketsReceived) + "\n")
	b.WriteString("Sent: " + itoa(st.PacketsSent) + "\n")
	b.WriteString("Connections: " + itoa(st.Connections) + "\n")
	b.WriteString("Outstanding: " + itoa(st.Outstanding) + "\n")
	b.WriteString("Zxid: 0x" + hex(st.Zxid) + "\n")
	b.WriteString("Mode: " + st.Mode + "\n")
	b.WriteString("Node count: " + itoa(st.NodeCount) + "\n")
	if st.Mode == "leader" {
		b.WriteString("Proposal sizes last/min/max: " + itoa(st.ProposalSizeLast) + "/" + itoa(st.ProposalSizeMin) +
			"/" + itoa(st.ProposalSizeMax) + "\n")
	}
	return b.String()
}

// mntr renders the monitor command: zk_<key>\t<value> lines.
func mntr(st ServerStats) string {
	var b strings.Builder
	for _, kv := range Monitor(st) {
		b.WriteString("zk_" + kv.Key + "\t" + kv.Value + "\n")
	}
	return b.String()
}

// Monitor returns the figures of the monitor command (mntr, the
// AdminServer's /commands/monitor), keys without mntr's "zk_" prefix: version
// and state first as in ZooKeeper, then the gauges ZooKeeper 3.8 registers
// that herd can fill, its summaries, then herd's Raft figures, in a fixed
// order (ZooKeeper's own order is a hash order). Values are as mntr prints
// them; all but version and server_state are numbers.
func Monitor(st ServerStats) []KV {
	var out []KV
	put := func(k, v string) { out = append(out, KV{Key: k, Value: v}) }
	num := func(k string, v int64) { put(k, itoa(v)) }
	put("version", FullVersion())
	put("server_state", st.Mode)
	put("avg_latency", avgMillis(st.LatencyAvg))
	num("max_latency", millis(st.LatencyMax))
	num("min_latency", millis(st.LatencyMin))
	num("packets_received", st.PacketsReceived)
	num("packets_sent", st.PacketsSent)
	num("num_alive_connections", st.Connections)
	num("outstanding_requests", st.Outstanding)
	num("uptime", st.Uptime.Milliseconds())
	num("znode_count", st.NodeCount)
	num("watch_count", st.WatchCount)
	num("ephemerals_count", st.EphemeralsCount)
	num("approximate_data_size", st.ApproximateDataSize)
	num("global_sessions", st.GlobalSessions)
	num("local_sessions", st.LocalSessions)
	if st.MaxFileDescriptors > 0 {
		num("open_file_descriptor_count", st.OpenFileDescriptors)
		num("max_file_descriptor_count", st.MaxFileDescriptors)
	}
	num("auth_failed_count", st.AuthFailedCount)
	if st.QuorumSize > 0 {
		num("quorum_size", st.QuorumSize)
	}
	if st.Mode == "leader" {
		num("learners", st.Learners)
		num("synced_followers", st.SyncedFollowers)
		num("synced_non_voting_followers", st.SyncedNonVotingFollowers)
		num("synced_observers", st.SyncedObservers)
		num("pending_syncs", st.PendingSyncs)
		num("last_proposal_size", st.ProposalSizeLast)
		num("max_proposal_size", st.ProposalSizeMax)
		num("min_proposal_size", st.ProposalSizeMin)
	}
	for _, sm := range st.Summaries {
		avg := 0.0
		if sm.Count > 0 {
			avg = sm.Sum / float64(sm.Count)
		}
		// ZooKeeper's summaries hold whole milliseconds; only the average
		// is a double.
		put("avg_"+sm.Name, javaDouble(avg))
		num("min_"+sm.Name, int64(sm.Min))
		num("max_"+sm.Name, int64(sm.Max))
		num("cnt_"+sm.Name, sm.Count)
		num("sum_"+sm.Name, int64(sm.Sum))
		for _, q := range sm.Quantiles {
			num(q.Label+"_"+sm.Name, int64(q.Value))
		}
	}
	r := st.Raft
	num("herd_raft_term", int64(r.Term))
	num("herd_raft_commit_index", int64(r.CommitIndex))
	num("herd_raft_applied_index", int64(r.AppliedIndex))
	num("herd_raft_last_contact_ms", r.LastContact.Milliseconds())
	num("herd_raft_leader_changes", r.LeaderChanges)
	num("herd_raft_last_snapshot_index", int64(r.LastSnapshotIndex))
	num("herd_raft_last_snapshot_duration_ms", r.LastSnapshotDuration.Milliseconds())
	out = append(out, st.Metrics...)
	return out
}

func dirs(st ServerStats) string {
	return "datadir_size: " + itoa(st.DataDirSize) + "\nlogdir_size: " + itoa(st.LogDirSize) + "\n"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
