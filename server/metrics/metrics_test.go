package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/metrics"
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

// scrape fetches /metrics and parses it with Prometheus's own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

func gauge(t *testing.T, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	if f.GetType() != dto.MetricType_GAUGE && f.GetType() != dto.MetricType_COUNTER {
		t.Fatalf("%s is a %v", name, f.GetType())
	}
	m := f.GetMetric()[0]
	if f.GetType() == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func summaryCount(t *testing.T, fams map[string]*dto.MetricFamily, name string) uint64 {
	t.Helper()
	f, ok := fams[name]
	if !ok || f.GetType() != dto.MetricType_SUMMARY {
		t.Fatalf("no summary %s", name)
	}
	return f.GetMetric()[0].GetSummary().GetSampleCount()
}

// TestScrapeMovesWithTheTree scrapes a live server: the figures carry
// ZooKeeper's names and types, and they move with what clients do.
func TestScrapeMovesWithTheTree(t *testing.T) {
	s := herdtest.Start(t)
	srv := s.Server()
	hs := httptest.NewServer(metrics.Handler(srv.Metrics(), metrics.Runtime()))
	defer hs.Close()
	url := hs.URL + "/metrics"
	c := connect(t, s.Addr)

	before := scrape(t, url)
	for _, name := range []string{"znode_count", "watch_count", "ephemerals_count", "approximate_data_size",
		"num_alive_connections", "outstanding_requests", "packets_received", "packets_sent", "avg_latency",
		"min_latency", "max_latency", "uptime", "global_sessions", "herd_raft_commit_index", "herd_raft_applied_index",
		"herd_raft_last_contact_seconds", "herd_raft_leader_changes_total", "herd_raft_last_snapshot_duration_seconds"} {
		gauge(t, before, name)
	}
	// ZooKeeper's provider gives its metrics their own name as help text.
	if h := before["znode_count"].GetHelp(); h != "znode_count" {
		t.Errorf("znode_count help %q, want its name", h)
	}
	if n := gauge(t, before, "num_alive_connections"); n != 1 {
		t.Errorf("num_alive_connections = %v, want 1", n)
	}
	if n := gauge(t, before, "herd_raft_leader_changes_total"); n < 1 {
		t.Errorf("herd_raft_leader_changes_total = %v: a standalone node elects itself once", n)
	}
	// Quantiles as ZooKeeper's: 0.5/0.9/0.99 for the advanced latencies, the
	// median only for the basic summaries.
	for name, want := range map[string]int{"readlatency": 3, "updatelatency": 3, "fsynctime": 1, "election_time": 1, "snapshottime": 1} {
		f, ok := before[name]
		if !ok {
			t.Fatalf("no summary %s", name)
		}
		if got := len(f.GetMetric()[0].GetSummary().GetQuantile()); got != want {
			t.Errorf("%s has %d quantiles, want %d", name, got, want)
		}
	}
	if _, ok := before["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	if _, err := c.Create("/m", []byte("12345"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/m/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.GetW("/m"); err != nil {
		t.Fatal(err)
	}
	after := scrape(t, url)
	for _, d := range []struct {
		name string
		want float64
	}{{"znode_count", 2}, {"ephemerals_count", 1}, {"watch_count", 1}, {"approximate_data_size", 5 + 2 + 4}} { // data plus path lengths, as ZooKeeper counts
		if got := gauge(t, after, d.name) - gauge(t, before, d.name); got != d.want {
			t.Errorf("%s moved by %v, want %v", d.name, got, d.want)
		}
	}
	if gauge(t, after, "packets_received") <= gauge(t, before, "packets_received") {
		t.Error("packets_received did not grow")
	}
	if a, b := gauge(t, after, "herd_raft_applied_index"), gauge(t, before, "herd_raft_applied_index"); a < b+2 {
		t.Errorf("herd_raft_applied_index %v → %v, want at least two more entries", b, a)
	}
	if gauge(t, after, "herd_raft_commit_index") < gauge(t, after, "herd_raft_applied_index") {
		t.Error("commit index behind applied index")
	}
	if d := summaryCount(t, after, "updatelatency") - summaryCount(t, before, "updatelatency"); d != 2 {
		t.Errorf("updatelatency counted %d writes, want 2", d)
	}
	if d := summaryCount(t, after, "readlatency") - summaryCount(t, before, "readlatency"); d != 1 {
		t.Errorf("readlatency counted %d reads, want 1", d)
	}
	if summaryCount(t, after, "fsynctime") <= summaryCount(t, before, "fsynctime") {
		t.Error("fsynctime did not count the log writes")
	}

	// A snapshot shows in snapshottime and the herd_ snapshot figures.
	if err := srv.Cluster().Snapshot(); err != nil {
		t.Fatal(err)
	}
	snap := scrape(t, url)
	if summaryCount(t, snap, "snapshottime") < 1 {
		t.Error("snapshottime did not count the snapshot")
	}
	if gauge(t, snap, "herd_raft_last_snapshot_index") < 1 {
		t.Error("herd_raft_last_snapshot_index not set after a snapshot")
	}
}

// TestMntrAndScrapeAgree checks that mntr and the scrape come from one
// source: each figure that cannot move between the two reads is the same.
func TestMntrAndScrapeAgree(t *testing.T) {
	s := herdtest.Start(t)
	hs := httptest.NewServer(metrics.Handler(s.Server().Metrics()))
	defer hs.Close()
	c := connect(t, s.Addr)
	for _, p := range []string{"/a", "/b", "/c"} {
		if _, err := c.Create(p, []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := zkpeer.FourLetter(s.Addr, "mntr", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mntr := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			mntr[k] = v
		}
	}
	fams := scrape(t, hs.URL+"/metrics")
	for _, name := range []string{"znode_count", "ephemerals_count", "approximate_data_size", "watch_count", "global_sessions"} {
		want := mntr["zk_"+name]
		if got := model.SampleValue(gauge(t, fams, name)).String(); got != want {
			t.Errorf("%s: scrape %s, mntr %s", name, got, want)
		}
	}
	for _, k := range []string{"zk_cnt_updatelatency", "zk_p99_readlatency", "zk_avg_fsynctime", "zk_herd_raft_commit_index"} {
		if _, ok := mntr[k]; !ok {
			t.Errorf("mntr lacks %s", k)
		}
	}
	if mntr["zk_cnt_updatelatency"] == "0" {
		t.Error("mntr counted no writes")
	}
}

// TestClusterFigures scrapes a three-node cluster: the leader reports the
// quorum and its followers, a follower its last contact with the leader, and
// when the leader dies the survivors count an election and a leader change.
func TestClusterFigures(t *testing.T) {
	cl := herdtest.StartCluster(t, 3)
	if err := cl.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	leader := cl.Leader()
	lh := httptest.NewServer(metrics.Handler(leader.Server().Metrics()))
	defer lh.Close()
	follower := cl.Followers()[0]
	fh := httptest.NewServer(metrics.Handler(follower.Server().Metrics()))
	defer fh.Close()

	deadline := time.Now().Add(20 * time.Second)
	for {
		lf := scrape(t, lh.URL+"/metrics")
		if gauge(t, lf, "quorum_size") == 3 && gauge(t, lf, "learners") == 2 && gauge(t, lf, "synced_followers") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader: quorum_size %v learners %v synced_followers %v", gauge(t, lf, "quorum_size"),
				gauge(t, lf, "learners"), gauge(t, lf, "synced_followers"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	ff := scrape(t, fh.URL+"/metrics")
	if _, ok := ff["learners"]; ok {
		t.Error("a follower reports learners, a leader-only figure in ZooKeeper")
	}
	if gauge(t, ff, "quorum_size") != 3 {
		t.Errorf("follower quorum_size %v", gauge(t, ff, "quorum_size"))
	}
	if lc := gauge(t, ff, "herd_raft_last_contact_seconds"); lc < 0 || lc > 10 {
		t.Errorf("follower last contact %vs", lc)
	}
	changes := gauge(t, ff, "herd_raft_leader_changes_total")
	elections := summaryCount(t, ff, "election_time")

	leader.Kill()
	deadline = time.Now().Add(30 * time.Second)
	for {
		ff = scrape(t, fh.URL+"/metrics")
		if gauge(t, ff, "herd_raft_leader_changes_total") > changes && summaryCount(t, ff, "election_time") > elections {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the leader died: leader changes %v (was %v), elections %d (was %d)",
				gauge(t, ff, "herd_raft_leader_changes_total"), changes, summaryCount(t, ff, "election_time"), elections)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
