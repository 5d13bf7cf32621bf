package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/server/admin"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func connect(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatal("no session")
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func command(t *testing.T, base, name string) map[string]any {
	t.Helper()
	code, body := get(t, base+"/commands/"+name)
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", name, code, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, body)
	}
	if e, ok := m["error"]; !ok || e != nil {
		t.Errorf("%s: error = %v", name, e)
	}
	return m
}

// TestCommands runs every command on a live node with a session, an
// ephemeral node and a watch, and checks the figures each one reports.
func TestCommands(t *testing.T) {
	s := herdtest.Start(t)
	hs := httptest.NewServer(admin.Handler(s.Server(), admin.Options{}))
	defer hs.Close()
	c := connect(t, s.Addr)
	if _, err := c.Create("/w", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/w/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.GetW("/w"); err != nil {
		t.Fatal(err)
	}
	sid := float64(c.SessionID())

	// Aliases answer with the primary name, as ZooKeeper's.
	for alias, name := range map[string]string{"srvr": "server_stats", "stat": "stats", "mntr": "monitor",
		"conf": "configuration", "cons": "connections", "wchs": "watch_summary", "wchc": "watches",
		"wchp": "watches_by_path", "envi": "environment", "isro": "is_read_only", "lead": "leader"} {
		code, body := get(t, hs.URL+"/commands/"+alias)
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%s: %d %v", alias, code, err)
		}
		if m["command"] != name {
			t.Errorf("%s answers as %v, want %s", alias, m["command"], name)
		}
	}
	command(t, hs.URL, "ruok")
	st := command(t, hs.URL, "server_stats")
	inner := st["server_stats"].(map[string]any)
	if inner["server_state"] != "standalone" || inner["num_alive_client_connections"] != 1.0 || st["node_count"] != 7.0 {
		t.Errorf("server_stats: %v node_count %v", inner, st["node_count"])
	}
	mon := command(t, hs.URL, "monitor")
	if mon["znode_count"] != 7.0 || mon["ephemerals_count"] != 1.0 || mon["watch_count"] != 1.0 || mon["server_state"] != "standalone" {
		t.Errorf("monitor: znodes %v ephemerals %v watches %v", mon["znode_count"], mon["ephemerals_count"], mon["watch_count"])
	}
	if _, ok := mon["p99_readlatency"]; !ok {
		t.Error("monitor lacks p99_readlatency")
	}
	cons := command(t, hs.URL, "connections")["connections"].([]any)
	if len(cons) != 1 || cons[0].(map[string]any)["session_id"] != sid {
		t.Errorf("connections: %v (session %v)", cons, sid)
	}
	stats := command(t, hs.URL, "stats")["connections"].([]any)
	if len(stats) != 1 || stats[0].(map[string]any)["session_id"] != nil {
		t.Errorf("stats lists connections briefly, without sessions: %v", stats)
	}
	ws := command(t, hs.URL, "watch_summary")
	if ws["num_connections"] != 1.0 || ws["num_paths"] != 1.0 || ws["num_total_watches"] != 1.0 {
		t.Errorf("watch_summary: %v", ws)
	}
	wc := command(t, hs.URL, "watches")["session_id_to_watched_paths"].(map[string]any)
	if len(wc) != 1 {
		t.Errorf("watches: %v", wc)
	}
	wp := command(t, hs.URL, "watches_by_path")["path_to_session_ids"].(map[string]any)
	if ids, _ := wp["/w"].([]any); len(ids) != 1 || ids[0] != sid {
		t.Errorf("watches_by_path: %v", wp)
	}
	dump := command(t, hs.URL, "dump")
	if eph := dump["session_id_to_ephemeral_paths"].(map[string]any); len(eph) != 1 {
		t.Errorf("dump ephemerals: %v", eph)
	}
	conf := command(t, hs.URL, "configuration")
	if conf["tick_time"] != 2000.0 || conf["data_dir"] != s.Config.DataDir {
		t.Errorf("configuration: %v", conf)
	}
	if ro := command(t, hs.URL, "is_read_only"); ro["read_only"] != false {
		t.Errorf("is_read_only: %v", ro)
	}
	if d := command(t, hs.URL, "dirs"); d["datadir_size"] == nil || d["logdir_size"].(float64) <= 0 {
		t.Errorf("dirs: %v", d)
	}
	if env := command(t, hs.URL, "environment"); env["zookeeper.version"] == nil {
		t.Errorf("environment: %v", env)
	}
	// A standalone server has no quorum: ZooKeeper says so for leader.
	code, body := get(t, hs.URL+"/commands/leader")
	if code != http.StatusOK || !strings.Contains(body, "server is not initialized") {
		t.Errorf("leader standalone: %d %s", code, body)
	}
	if vv := command(t, hs.URL, "voting_view"); len(vv["current_config"].(map[string]any)) != 0 {
		t.Errorf("voting_view standalone: %v", vv)
	}
	if code, body := get(t, hs.URL+"/commands/nosuch"); code != http.StatusNotFound || !strings.Contains(body, "Unknown command") {
		t.Errorf("unknown command: %d %s", code, body)
	}
	if code, body := get(t, hs.URL+"/commands"); code != http.StatusOK || !strings.Contains(body, `href="/commands/monitor"`) {
		t.Errorf("/commands: %d %s", code, body)
	}
}

// TestHealthAndReadiness follows a cluster member through losing its
// quorum: ready while it has a leader, not ready (503) once the others are
// gone, ready again when they return; healthy throughout.
func TestHealthAndReadiness(t *testing.T) {
	cl := herdtest.StartCluster(t, 3)
	ctx := t.Context()
	if err := cl.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	follower := cl.Followers()[0]
	hs := httptest.NewServer(admin.Handler(follower.Server(), admin.Options{}))
	defer hs.Close()
	if code, _ := get(t, hs.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with a leader: %d", code)
	}
	lead := command(t, hs.URL, "leader")
	if lead["is_leader"] != false || lead["leader_id"] != float64(cl.Leader().Member().ID) {
		t.Errorf("leader on a follower: %v", lead)
	}
	vv := command(t, hs.URL, "voting_view")["current_config"].(map[string]any)
	if len(vv) != 3 {
		t.Errorf("voting_view: %v", vv)
	}
	for _, m := range vv {
		if m.(map[string]any)["learner_type"] != "participant" {
			t.Errorf("voting_view member %v", m)
		}
	}
	// The web view lists the members and marks the leader.
	_, page := get(t, hs.URL+"/")
	if n := strings.Count(page, "<tr><td>") + strings.Count(page, `<tr class="leader"><td>`); n != 3 ||
		!strings.Contains(page, `<tr class="leader"><td>`+strconv.Itoa(cl.Leader().Member().ID)+`</td>`) ||
		!strings.Contains(page, "(this node)") {
		t.Errorf("members table (%d rows):\n%s", n, page)
	}
	follower.CutPeers()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get(t, hs.URL+"/readyz")
		if code == http.StatusServiceUnavailable && strings.Contains(body, "no leader") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz while cut off: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get(t, hs.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz while cut off: %d (the node itself is healthy)", code)
	}
	if code, body := get(t, hs.URL+"/commands/monitor"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not currently serving") {
		t.Errorf("monitor while cut off: %d %s", code, body)
	}
	follower.HealPeers()
	deadline = time.Now().Add(20 * time.Second)
	for {
		if code, _ := get(t, hs.URL+"/readyz"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after heal")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
