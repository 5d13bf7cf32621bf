package admin

import (
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/fourlw"
)

// command is one AdminServer command: its primary name (what the response's
// "command" field says), the short names ZooKeeper also accepts, and what it
// adds to the response.
type command struct {
	name    string
	aliases []string
	// serving: the command answers only while the node serves, as ZooKeeper's
	// do (they need a running ZooKeeperServer).
	serving bool
	run     func(a *adminServer, src fourlw.Source, resp map[string]any)
}

// commands are ZooKeeper 3.8's AdminServer commands that herd implements,
// with ZooKeeper's names and aliases (Commands.java).
var commands = []command{
	{name: "configuration", aliases: []string{"conf", "config"}, serving: true, run: runConf},
	{name: "connection_stat_reset", aliases: []string{"crst"}, serving: true, run: func(_ *adminServer, src fourlw.Source, _ map[string]any) {
		if r, ok := src.(fourlw.Resetter); ok {
			r.ResetConnStats()
		}
	}},
	{name: "connections", aliases: []string{"cons"}, serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		resp["connections"] = connections(src.Conns(), false)
		resp["secure_connections"] = []any{}
	}},
	{name: "dirs", serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		st := src.Server()
		resp["datadir_size"], resp["logdir_size"] = st.DataDirSize, st.LogDirSize
	}},
	{name: "dump", serving: true, run: runDump},
	{name: "environment", aliases: []string{"env", "envi"}, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		for _, kv := range src.Env() {
			resp[kv.Key] = kv.Value
		}
	}},
	{name: "get_trace_mask", aliases: []string{"gtmk"}, run: func(_ *adminServer, _ fourlw.Source, resp map[string]any) {
		resp["tracemask"] = 306 // ZooTrace's default; herd has no trace levels
	}},
	{name: "is_read_only", aliases: []string{"isro"}, serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		resp["read_only"] = src.ReadOnly()
	}},
	{name: "leader", aliases: []string{"lead"}, serving: true, run: runLeader},
	{name: "monitor", aliases: []string{"mntr"}, serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		for _, kv := range fourlw.Monitor(src.Server()) {
			resp[kv.Key] = number(kv.Value)
		}
	}},
	{name: "ruok", run: func(a *adminServer, _ fourlw.Source, resp map[string]any) {
		if err := a.srv.Health(); err != nil {
			resp["error"] = err.Error()
		}
	}},
	{name: "server_stats", aliases: []string{"srvr"}, serving: true, run: func(a *adminServer, src fourlw.Source, resp map[string]any) {
		serverStats(src, resp)
	}},
	{name: "stat_reset", aliases: []string{"srst"}, serving: true, run: func(_ *adminServer, src fourlw.Source, _ map[string]any) {
		if r, ok := src.(fourlw.Resetter); ok {
			r.ResetServerStats()
		}
	}},
	{name: "stats", aliases: []string{"stat"}, serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		serverStats(src, resp)
		resp["connections"] = connections(src.Conns(), true)
		resp["secure_connections"] = []any{}
	}},
	{name: "voting_view", serving: true, run: runVotingView},
	{name: "watch_summary", aliases: []string{"wchs"}, serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		ws := src.Watches()
		resp["num_connections"], resp["num_paths"], resp["num_total_watches"] = ws.Connections, ws.Paths, ws.Total
	}},
	{name: "watches", aliases: []string{"wchc"}, serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		bySession := map[string][]string{}
		for _, w := range src.WatchList() {
			k := strconv.FormatInt(w.SessionID, 10)
			bySession[k] = append(bySession[k], w.Path)
		}
		for _, ps := range bySession {
			sort.Strings(ps)
		}
		resp["session_id_to_watched_paths"] = bySession
	}},
	{name: "watches_by_path", aliases: []string{"wchp"}, serving: true, run: func(_ *adminServer, src fourlw.Source, resp map[string]any) {
		byPath := map[string][]int64{}
		for _, w := range src.WatchList() {
			byPath[w.Path] = append(byPath[w.Path], w.SessionID)
		}
		for _, ids := range byPath {
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		}
		resp["path_to_session_ids"] = byPath
	}},
}

// CommandNames returns the primary names of the commands served.
func CommandNames() []string {
	out := make([]string, 0, len(commands))
	for _, c := range commands {
		out = append(out, c.name)
	}
	return out
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
		for _, a := range c.aliases {
			if a == name {
				return c, true
			}
		}
	}
	return command{}, false
}

// listCommands links every command, as ZooKeeper's /commands page does.
func (a *adminServer) listCommands(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	for _, name := range CommandNames() {
		u := template.HTMLEscapeString(a.opts.CommandURL + "/" + name)
		_, _ = w.Write([]byte(`<a href="` + u + `">` + template.HTMLEscapeString(name) + "</a>\n<br/>\n"))
	}
}

// command runs /commands/<name>: a JSON object with the command's fields,
// "command" (the primary name) and "error" (null, or why it failed).
func (a *adminServer) command(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	cmd, ok := lookup(name)
	resp := map[string]any{"command": name, "error": nil}
	status := http.StatusOK
	switch {
	case !ok:
		resp["error"] = "Unknown command: " + name
		status = http.StatusNotFound
	default:
		resp["command"] = cmd.name
		src := a.srv.Source()
		if cmd.serving && !src.Server().Serving {
			resp["error"] = strings.TrimSuffix(fourlw.NotServing, "\n")
			status = http.StatusServiceUnavailable
			break
		}
		cmd.run(a, src, resp)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(resp); err != nil {
		a.opts.Logger.Debug("admin: writing a response", zap.String("command", name), zap.Error(err))
	}
}

// number turns an mntr value into a JSON number where it is one, as
// ZooKeeper's monitor command returns numbers.
func number(v string) any {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	return v
}

// bufferStats is ZooKeeper's BufferStats; herd does not measure response
// sizes, so it reports ZooKeeper's "none yet" value, -1.
func bufferStats() map[string]any {
	return map[string]any{"last_buffer_size": -1, "min_buffer_size": -1, "max_buffer_size": -1}
}

// serverStats fills server_stats (srvr): ZooKeeper's StatResponse fields.
func serverStats(src fourlw.Source, resp map[string]any) {
	st := src.Server()
	resp["version"] = fourlw.FullVersion()
	resp["read_only"] = src.ReadOnly()
	resp["server_stats"] = map[string]any{
		"packets_sent":                 st.PacketsSent,
		"packets_received":             st.PacketsReceived,
		"fsync_threshold_exceed_count": st.FsyncThresholdExceeded,
		"client_response_stats":        bufferStats(),
		"data_dir_size":                st.DataDirSize,
		"log_dir_size":                 st.LogDirSize,
		"provider_null":                false,
		"server_state":                 st.Mode,
		"last_processed_zxid":          st.Zxid,
		"outstanding_requests":         st.Outstanding,
		"avg_latency":                  float64(st.LatencyAvg.Microseconds()/100) / 10,
		"max_latency":                  st.LatencyMax.Milliseconds(),
		"min_latency":                  st.LatencyMin.Milliseconds(),
		"num_alive_client_connections": st.Connections,
		"uptime":                       st.Uptime.Milliseconds(),
		"auth_failed_count":            st.AuthFailedCount,
		"non_mtlsremote_conn_count":    0,
		"non_mtlslocal_conn_count":     0,
	}
	resp["client_response"] = bufferStats()
	resp["node_count"] = st.NodeCount
	if st.Mode == "leader" {
		resp["proposal_stats"] = map[string]any{"last_buffer_size": st.ProposalSizeLast,
			"min_buffer_size": st.ProposalSizeMin, "max_buffer_size": st.ProposalSizeMax}
	}
}

// connections renders ServerCnxn.getConnectionInfo: brief (stats) stops
// after the packet counts, the session fields appear once a session exists.
func connections(conns []fourlw.ConnStats, brief bool) []map[string]any {
	out := make([]map[string]any, 0, len(conns))
	for _, c := range conns {
		interest := 0
		if c.SessionID != 0 {
			interest = 1
		}
		m := map[string]any{
			"remote_socket_address": addr(c.Remote),
			"interest_ops":          interest,
			"outstanding_requests":  c.Queued,
			"packets_received":      c.Received,
			"packets_sent":          c.Sent,
		}
		if !brief && c.SessionID != 0 {
			m["session_id"] = c.SessionID
			m["last_operation"] = fourlw.OpAbbrev(c.LastOp)
			m["established"] = c.Established.UnixMilli()
			m["session_timeout"] = c.Timeout.Milliseconds()
			m["last_cxid"] = c.LastCxid
			m["last_zxid"] = c.LastZxid
			m["last_response_time"] = unixMilli(c.LastResponse)
			m["last_latency"] = c.LastLatency.Milliseconds()
			m["min_latency"] = c.MinLatency.Milliseconds()
			m["avg_latency"] = c.AvgLatency.Milliseconds()
			m["max_latency"] = c.MaxLatency.Milliseconds()
		}
		out = append(out, m)
	}
	return out
}

func addr(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return ap.Addr().Unmap().String() + ":" + strconv.Itoa(int(ap.Port()))
}

func runDump(_ *adminServer, src fourlw.Source, resp map[string]any) {
	expiry := map[string][]int64{}
	eph := map[string][]string{}
	for _, s := range src.Sessions() {
		k := strconv.FormatInt(unixMilli(s.Expires), 10)
		expiry[k] = append(expiry[k], s.ID)
		if len(s.Ephemerals) > 0 {
			eph[strconv.FormatInt(s.ID, 10)] = append([]string(nil), s.Ephemerals...)
		}
	}
	for _, ids := range expiry {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	resp["expiry_time_to_session_ids"] = expiry
	resp["session_id_to_ephemeral_paths"] = eph
}

// confKeys maps conf's keys to the configuration command's JSON names:
// ZooKeeper's ZooKeeperServerConf fields in snake case, which it returns for
// a standalone server and an ensemble member alike.
var confKeys = map[string]string{
	"clientPort": "client_port", "dataDir": "data_dir", "dataLogDir": "data_log_dir",
	"tickTime": "tick_time", "maxClientCnxns": "max_client_cnxns",
	"minSessionTimeout": "min_session_timeout", "maxSessionTimeout": "max_session_timeout",
	"serverId": "server_id", "clientPortListenBacklog": "client_port_listen_backlog",
}

func runConf(_ *adminServer, src fourlw.Source, resp map[string]any) {
	for _, kv := range src.Conf() {
		if k, ok := confKeys[kv.Key]; ok {
			resp[k] = number(kv.Value)
		}
	}
}

func runLeader(a *adminServer, _ fourlw.Source, resp map[string]any) {
	n := a.srv.Cluster()
	members, _, err := n.Members()
	if err != nil || !isCluster(a.srv) {
		// As ZooKeeper: a standalone server has no quorum to lead.
		resp["error"] = "server is not initialized"
		return
	}
	st := n.State()
	resp["is_leader"] = st.Role == cluster.RoleLeader
	resp["leader_id"] = st.Leader
	resp["leader_ip"] = ""
	for _, m := range members {
		if m.ID == st.Leader {
			resp["leader_ip"] = m.Host
		}
	}
}

func runVotingView(a *adminServer, src fourlw.Source, resp map[string]any) {
	view := map[string]any{}
	if isCluster(a.srv) {
		members, _, _ := a.srv.Cluster().Members()
		for _, m := range members {
			learner := "participant"
			if m.Observer() {
				learner = "observer"
			}
			client := m.ClientAddr
			if client == "" && m.ID == a.srv.Cluster().ID() {
				// As ZooKeeper: a member knows its own client address from
				// clientPort even when its server.N line does not give one.
				for _, kv := range src.Conf() {
					if kv.Key == "clientPort" && kv.Value != "0" {
						client = net.JoinHostPort(m.Host, kv.Value)
					}
				}
			}
			view[strconv.Itoa(m.ID)] = map[string]any{
				"server_addresses":   []string{m.PeerAddr()},
				"election_addresses": []string{m.ElectionAddr()},
				"client_address":     client,
				"learner_type":       learner,
			}
		}
	}
	resp["current_config"] = view
}

func isCluster(srv *server.Server) bool {
	return srv.Cluster().State().Role != cluster.RoleStandalone
}
