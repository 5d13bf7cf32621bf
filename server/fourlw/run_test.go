package fourlw

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/server/proto"
)

var all = ParseWhitelist([]string{"*"})

func TestRunFormats(t *testing.T) {
	v := FullVersion()
	for _, tc := range []struct{ cmd, want string }{
		{"ruok", "imok"},
		{"isro", "rw"},
		{"gtmk", "306"},
		{"srvr", "Zookeeper version: " + v + "\nLatency min/avg/max: 0/1.8182/8\nReceived: 12\nSent: 11\n" +
			"Connections: 2\nOutstanding: 0\nZxid: 0x5\nMode: standalone\nNode count: 7\n"},
		{"stat", "Zookeeper version: " + v + "\nClients:\n /127.0.0.1:52306[1](queued=0,recved=7,sent=7)\n" +
			" /127.0.0.1:52342[0](queued=0,recved=1,sent=0)\n\nLatency min/avg/max: 0/1.8182/8\nReceived: 12\n" +
			"Sent: 11\nConnections: 2\nOutstanding: 0\nZxid: 0x5\nMode: standalone\nNode count: 7\n"},
		{"cons", " /127.0.0.1:52306[1](queued=0,recved=7,sent=7,sid=0x10000068d8f0000,lop=EXIS,est=1795626880581," +
			"to=10000,lcxid=0x6,lzxid=0x4,lresp=1795626890000,llat=1,minlat=0,avglat=2,maxlat=8)\n" +
			" /127.0.0.1:52342[0](queued=0,recved=1,sent=0)\n\n"},
		{"wchs", "1 connections watching 1 paths\nTotal watches:1\n"},
		{"wchc", "0x10000068d8f0000\n\t/p\n\n"},
		{"wchp", "/p\n\t0x10000068d8f0000\n\n"},
		{"conf", "clientPort=2181\ntickTime=2000\n"},
		{"envi", "Environment:\nzookeeper.version=" + v + "\nhost.name=h\n"},
		{"dirs", "datadir_size: 457\nlogdir_size: 458\n"},
		{"dump", "SessionTracker dump:\nSession Sets (1)/(1):\n1 expire at Wed Nov 25 17:14:51 UTC 2026:\n" +
			"\t0x10000068d8f0000\nephemeral nodes dump:\nSessions with Ephemerals (1):\n0x10000068d8f0000:\n\t/p/e\n" +
			"Connections dump:\nConnections Sets (2)/(2):\n1 expire at Wed Nov 25 17:14:47 UTC 2026:\n" +
			"\tip: /127.0.0.1:52342 sessionId: 0x0\n1 expire at Wed Nov 25 17:14:57 UTC 2026:\n" +
			"\tip: /127.0.0.1:52306 sessionId: 0x10000068d8f0000\n"},
		{"crst", "Connection stats reset.\n"},
		{"srst", "Server stats reset.\n"},
		{"hash", ""},
		{"xyzw", ""},
	} {
		if got := Run(tc.cmd, all, newFake()); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
}

func TestMntr(t *testing.T) {
	got := Run("mntr", all, newFake())
	herd := "zk_herd_raft_term\t0\nzk_herd_raft_commit_index\t0\nzk_herd_raft_applied_index\t0\n" +
		"zk_herd_raft_last_contact_ms\t0\nzk_herd_raft_leader_changes\t0\nzk_herd_raft_last_snapshot_index\t0\n" +
		"zk_herd_raft_last_snapshot_duration_ms\t0\n"
	want := "zk_version\t" + FullVersion() + "\nzk_server_state\tstandalone\nzk_avg_latency\t1.8182\n" +
		"zk_max_latency\t8\nzk_min_latency\t0\nzk_packets_received\t12\nzk_packets_sent\t11\n" +
		"zk_num_alive_connections\t2\nzk_outstanding_requests\t0\nzk_uptime\t16928\nzk_znode_count\t7\n" +
		"zk_watch_count\t1\nzk_ephemerals_count\t1\nzk_approximate_data_size\t61\nzk_global_sessions\t1\n" +
		"zk_local_sessions\t0\nzk_open_file_descriptor_count\t41\nzk_max_file_descriptor_count\t20000\n" +
		"zk_auth_failed_count\t0\n" + herd
	if got != want {
		t.Errorf("mntr:\n got %q\nwant %q", got, want)
	}
}

// TestMntrSummaries checks a summary's lines against ZooKeeper 3.8's mntr:
// avg as a Java double, min/max/cnt/sum and the quantiles as whole
// milliseconds, the quantiles only for advanced summaries.
func TestMntrSummaries(t *testing.T) {
	st := ServerStats{Serving: true, Mode: "standalone", Summaries: []Summary{
		{Name: "fsynctime", Count: 4, Sum: 2.5, Min: 0.2, Max: 1.7},
		{Name: "readlatency", Count: 1, Sum: 1, Min: 1, Max: 1,
			Quantiles: []Quantile{{Label: "p50", Q: 0.5, Value: 1}, {Label: "p999", Q: 0.999, Value: 1.4}}},
	}}
	got := mntr(st)
	for _, want := range []string{
		"zk_avg_fsynctime\t0.625\nzk_min_fsynctime\t0\nzk_max_fsynctime\t1\nzk_cnt_fsynctime\t4\nzk_sum_fsynctime\t2\n",
		"zk_avg_readlatency\t1.0\nzk_min_readlatency\t1\nzk_max_readlatency\t1\nzk_cnt_readlatency\t1\n" +
			"zk_sum_readlatency\t1\nzk_p50_readlatency\t1\nzk_p999_readlatency\t1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("mntr lacks\n%q\nin\n%q", want, got)
		}
	}
}

func TestLeaderLines(t *testing.T) {
	f := newFake()
	f.st.Mode = "leader"
	f.st.QuorumSize = 3
	f.st.Learners, f.st.SyncedFollowers = 2, 2
	f.st.ProposalSizeLast, f.st.ProposalSizeMin, f.st.ProposalSizeMax = 40, 36, 1200
	f.st.Metrics = []KV{{Key: "raft_term", Value: "4"}}
	if got := Run("srvr", all, f); !strings.HasSuffix(got, "Node count: 7\nProposal sizes last/min/max: 40/36/1200\n") {
		t.Errorf("srvr leader = %q", got)
	}
	got := Run("mntr", all, f)
	for _, line := range []string{"zk_quorum_size\t3\n", "zk_learners\t2\n", "zk_synced_followers\t2\n",
		"zk_pending_syncs\t0\n", "zk_last_proposal_size\t40\n", "zk_max_proposal_size\t1200\n",
		"zk_min_proposal_size\t36\n"} {
		if !strings.Contains(got, line) {
			t.Errorf("mntr leader lacks %q", line)
		}
	}
	if !strings.HasSuffix(got, "zk_raft_term\t4\n") {
		t.Errorf("mntr does not end with the extra metric: %q", got)
	}
}

func TestReadOnlyAndNotServing(t *testing.T) {
	f := newFake()
	f.ro = true
	f.st.Mode = "read-only"
	if got := Run("isro", all, f); got != "ro" {
		t.Errorf("isro = %q", got)
	}
	if got := Run("srvr", all, f); !strings.Contains(got, "\nREAD-ONLY mode; serving only read-only clients\nLatency") {
		t.Errorf("srvr read-only = %q", got)
	}
	f.st.Serving = false
	for _, cmd := range []string{"srvr", "stat", "mntr", "cons", "conf", "dirs", "dump", "wchs", "wchc", "wchp", "crst", "srst"} {
		if got := Run(cmd, all, f); got != NotServing {
			t.Errorf("%s while not serving = %q", cmd, got)
		}
	}
	if len(f.resets) != 0 {
		t.Errorf("reset ran while not serving: %v", f.resets)
	}
	for cmd, want := range map[string]string{"isro": "null", "ruok": "imok"} {
		if got := Run(cmd, all, f); got != want {
			t.Errorf("%s while not serving = %q, want %q", cmd, got, want)
		}
	}
	if got := Run("envi", all, f); !strings.HasPrefix(got, "Environment:\n") {
		t.Errorf("envi while not serving = %q", got)
	}
}

func TestResetCallsSource(t *testing.T) {
	f := newFake()
	Run("crst", all, f)
	Run("srst", all, f)
	if strings.Join(f.resets, ",") != "conn,server" {
		t.Errorf("resets = %v", f.resets)
	}
	// A Source without Resetter answers nothing.
	type plain struct{ Source }
	if got := Run("crst", all, plain{newFake()}); got != "" {
		t.Errorf("crst without Resetter = %q", got)
	}
}

func TestConnLineDetails(t *testing.T) {
	c := ConnStats{SessionID: -2, LastCxid: -1, LastZxid: -1}
	c.Remote = netipMust("[::1]:2181")
	got := connLine(c, false)
	want := " /0:0:0:0:0:0:0:1:2181[1](queued=0,recved=0,sent=0,sid=0xfffffffffffffffe,lop=NA,est=0,to=0," +
		"lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := javaAddr(netipMust("[::ffff:10.1.2.3]:7")); got != "/10.1.2.3:7" {
		t.Errorf("mapped = %q", got)
	}
	for op, want := range map[proto.OpCode]string{proto.OpCreate2: "CREA", proto.OpGetChildren2: "GETC",
		proto.OpPing: "PING", proto.OpNotification: "NA", proto.OpAuth: "NA"} {
		if got := OpAbbrev(op); got != want {
			t.Errorf("OpAbbrev(%v) = %q, want %q", op, got, want)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{0: "0.0", 1: "1.0", 1.8182: "1.8182", 74: "74.0", 0.001: "0.001",
		1e7: "1.0E7", 12345678.9: "1.23456789E7", 0.0001: "1.0E-4", -2.5: "-2.5"} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
	if got := avgMillis(1818150 * time.Nanosecond); got != "1.8182" {
		t.Errorf("avgMillis = %q", got)
	}
}

func TestWhitelist(t *testing.T) {
	var zero Whitelist
	def := ParseWhitelist(nil)
	some := ParseWhitelist([]string{"stat, ruok", " conf ", "bogus"})
	for _, tc := range []struct {
		w    Whitelist
		cmd  string
		want bool
	}{
		{zero, "srvr", true}, {zero, "ruok", false}, {def, "srvr", true}, {def, "isro", false},
		{some, "stat", true}, {some, "ruok", true}, {some, "conf", true}, {some, "srvr", true},
		{some, "mntr", false}, {some, "bogus", false}, {all, "mntr", true}, {all, "xyzw", false},
		{some.With("isro"), "isro", true}, {some, "isro", false},
	} {
		if got := tc.w.Allows(tc.cmd); got != tc.want {
			t.Errorf("Allows(%q) = %v, want %v", tc.cmd, got, tc.want)
		}
	}
	if got := Run("ruok", def, newFake()); got != "ruok is not executed because it is not in the whitelist.\n" {
		t.Errorf("not whitelisted = %q", got)
	}
	if cmd, ok := Lookup([]byte("mntr")); !ok || cmd != "mntr" {
		t.Errorf("Lookup(mntr) = %q, %v", cmd, ok)
	}
	if _, ok := Lookup([]byte{0, 0, 0, 45}); ok {
		t.Error("Lookup accepted a length prefix")
	}
}

func TestVersionFormat(t *testing.T) {
	if _, err := time.Parse("01/02/2006 15:04 MST", BuildTime); err != nil {
		t.Errorf("BuildTime %q: %v", BuildTime, err)
	}
	if !strings.HasPrefix(FullVersion(), Version+"-"+BuildID+", built on ") {
		t.Errorf("FullVersion = %q", FullVersion())
	}
}

// unhealthySource is a source whose node cannot write.
type unhealthySource struct {
	*fakeSource
	err error
}

func (u unhealthySource) Health() error { return u.err }

func TestRuokSilentWhileUnhealthy(t *testing.T) {
	f := unhealthySource{newFake(), nil}
	if got := Run("ruok", all, f); got != "imok" {
		t.Fatalf("healthy ruok = %q", got)
	}
	f.err = errors.New("disk full")
	if got := Run("ruok", all, f); got != "" {
		t.Fatalf("unhealthy ruok = %q, want no answer", got)
	}
}
