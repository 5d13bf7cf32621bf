//go:build interop

package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/admin"
)

// dynamicKeys are the response fields whose object keys are data (session
// ids, paths, expiry times, member ids), compared as "*".
var dynamicKeys = map[string]bool{
	"session_id_to_watched_paths": true, "path_to_session_ids": true, "expiry_time_to_session_ids": true,
	"session_id_to_ephemeral_paths": true, "current_config": true,
}

// keyPaths flattens a JSON value to the set of its key paths:
// "server_stats.client_response_stats.last_buffer_size", "connections[].session_id".
func keyPaths(prefix string, v any, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			name := k
			if dynamicKeys[strings.TrimSuffix(strings.TrimSuffix(prefix, "."), "[]")] {
				name = "*"
			}
			out[prefix+name] = true
			keyPaths(prefix+name+".", e, out)
		}
	case []any:
		for _, e := range v {
			keyPaths(strings.TrimSuffix(prefix, ".")+"[].", e, out)
		}
	}
}

// jvmOnly are environment keys that describe a JVM; herd, a Go program, has
// none to report (fourlw.Environment).
var jvmOnly = map[string]bool{"java.home": true, "java.class.path": true, "java.library.path": true, "java.compiler": true}

func adminJSON(t *testing.T, base, cmd string) (map[string]any, map[string]bool) {
	t.Helper()
	resp, err := http.Get(base + "/commands/" + cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %v\n%s", base, cmd, err, b)
	}
	keys := map[string]bool{}
	keyPaths("", m, keys)
	return m, keys
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestAdminServerMatchesZooKeeper runs each AdminServer command on Apache
// ZooKeeper 3.8 and on herd, each holding the same client state (a session
// with an ephemeral node and a data watch), and compares the key sets of the
// JSON answers: the same fields, nested objects and connection entries
// included. monitor is compared one way: every key herd reports (but its
// herd_* Raft figures) is one ZooKeeper reports, and the figures issue #11
// names are in both.
func TestAdminServerMatchesZooKeeper(t *testing.T) {
	zkpeer.Require(t, zkpeer.Jar, zkpeer.ServletJar)
	zks := zkpeer.StartT(t, zkpeer.Options{AdminServer: true})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(zks.AdminURL + "/commands/ruok")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ZooKeeper's AdminServer did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	hs := herdtest.Start(t)
	herdHTTP := httptest.NewServer(admin.Handler(hs.Server(), admin.Options{}))
	defer herdHTTP.Close()

	for _, addr := range []string{zks.Addr, hs.Addr} {
		c, _ := zkConnect(t, []string{addr}, 10*time.Second)
		if _, err := c.Create("/w", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create("/w/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := c.GetW("/w"); err != nil {
			t.Fatal(err)
		}
	}

	for _, cmd := range []string{"ruok", "server_stats", "srvr", "stats", "stat", "configuration", "conf",
		"connections", "cons", "watch_summary", "wchs", "watches", "wchc", "watches_by_path", "wchp", "dump",
		"environment", "envi", "leader", "voting_view", "is_read_only", "isro", "dirs"} {
		zm, zkKeys := adminJSON(t, zks.AdminURL, cmd)
		if cmd == "environment" || cmd == "envi" {
			for k := range jvmOnly {
				delete(zkKeys, k)
			}
		}
		hm, herdKeys := adminJSON(t, herdHTTP.URL, cmd)
		if zm["command"] != hm["command"] {
			t.Errorf("%s: command %v on ZooKeeper, %v on herd", cmd, zm["command"], hm["command"])
		}
		if z, h := sortedSet(zkKeys), sortedSet(herdKeys); !slices.Equal(z, h) {
			var onlyZK, onlyHerd []string
			for _, k := range z {
				if !herdKeys[k] {
					onlyZK = append(onlyZK, k)
				}
			}
			for _, k := range h {
				if !zkKeys[k] {
					onlyHerd = append(onlyHerd, k)
				}
			}
			t.Errorf("%s: keys only ZooKeeper has %v; only herd has %v", cmd, onlyZK, onlyHerd)
		}
	}

	_, zkMon := adminJSON(t, zks.AdminURL, "monitor")
	_, herdMon := adminJSON(t, herdHTTP.URL, "monitor")
	for _, k := range sortedSet(herdMon) {
		if !zkMon[k] && !strings.HasPrefix(k, "herd_") {
			t.Errorf("monitor: herd reports %s, which ZooKeeper does not", k)
		}
	}
	for _, k := range []string{"znode_count", "watch_count", "ephemerals_count", "approximate_data_size",
		"num_alive_connections", "outstanding_requests", "packets_received", "packets_sent", "avg_latency",
		"min_latency", "max_latency", "uptime", "avg_readlatency", "p99_readlatency", "cnt_updatelatency",
		"avg_fsynctime", "cnt_election_time", "cnt_snapshottime"} {
		if !zkMon[k] || !herdMon[k] {
			t.Errorf("monitor %s: ZooKeeper %v herd %v", k, zkMon[k], herdMon[k])
		}
	}
}
