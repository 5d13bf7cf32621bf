package server_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

// TestFourLetterWords runs the four-letter words against a live node and checks their content (go-zk parses
// srvr, ruok and cons).
func TestFourLetterWords(t *testing.T) {
	s := herdtest.Start(t) // herdtest enables every command
	c := dial(t, s.Addr, wireclient.Options{})
	create(t, c, "/eph", "data", proto.ModeEphemeral)
	exists(t, c, "/eph", true)

	if got := fourLetter(t, s.Addr, "ruok"); got != "imok" {
		t.Errorf("ruok = %q", got)
	}
	if oks := zk.FLWRuok([]string{s.Addr}, 5*time.Second); len(oks) != 1 || !oks[0] {
		t.Errorf("FLWRuok = %v", oks)
	}
	stats, ok := zk.FLWSrvr([]string{s.Addr}, 5*time.Second)
	if !ok || len(stats) != 1 || stats[0].Error != nil {
		t.Fatalf("FLWSrvr: ok=%v %+v", ok, stats)
	}
	st := stats[0]
	if st.Mode != zk.ModeStandalone || st.NodeCount < 3 || st.Connections < 1 || st.Received < 1 ||
		int64(st.Counter) != s.Server().LastZxid()&0xffffffff || st.BuildTime.IsZero() {
		t.Errorf("FLWSrvr parsed %+v (lastZxid %d)", st, s.Server().LastZxid())
	}
	// cons lists the asking connection too, without a session, as ZooKeeper
	// does; go-zk's regexp cannot parse that line (so ok is false) but it
	// parses the session's.
	clients, _ := zk.FLWCons([]string{s.Addr}, 5*time.Second)
	if len(clients) != 1 || len(clients[0].Clients) != 1 || clients[0].Clients[0].SessionID != c.SessionID() ||
		clients[0].Clients[0].LastOperation != "EXIS" {
		t.Errorf("FLWCons: %+v", clients)
	}

	for cmd, want := range map[string][]string{
		"mntr": {"zk_version\t3.8", "zk_server_state\tstandalone", "zk_znode_count\t", "zk_watch_count\t1",
			"zk_ephemerals_count\t1", "zk_num_alive_connections\t", "zk_avg_latency\t", "zk_packets_received\t"},
		"cons": {"sid=0x" + hexID(c.SessionID()), "lop="},
		"stat": {"Zookeeper version: ", "Clients:\n", "Mode: standalone\n", "Node count: "},
		"wchs": {"1 connections watching 1 paths\nTotal watches:1\n"},
		"wchc": {"0x" + hexID(c.SessionID()) + "\n\t/eph\n"},
		"wchp": {"/eph\n\t0x" + hexID(c.SessionID()) + "\n"},
		"dump": {"SessionTracker dump:", "ephemeral nodes dump:", "Sessions with Ephemerals (1):\n0x" + hexID(c.SessionID()) + ":\n\t/eph\n"},
		"conf": {"clientPort=" + s.Addr[strings.LastIndexByte(s.Addr, ':')+1:] + "\n", "dataDir=" + s.Config.DataDir + "\n",
			"tickTime=2000\n", "minSessionTimeout=4000\n", "maxSessionTimeout=40000\n"},
		"envi": {"Environment:\n", "zookeeper.version=3.8", "host.name="},
		"isro": {"rw"},
		"dirs": {"datadir_size: ", "logdir_size: "},
		"srvr": {"Zxid: 0x", "Mode: standalone\n"},
	} {
		got := fourLetter(t, s.Addr, cmd)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s output lacks %q:\n%s", cmd, w, got)
			}
		}
	}
	// dump groups sessions by their real expiry deadline, a tick boundary
	// within the session timeout from now.
	dump := fourLetter(t, s.Addr, "dump")
	if !strings.Contains(dump, "Session Sets (1)/(1):\n1 expire at ") || strings.Contains(dump, " 0001:") {
		t.Errorf("dump session expiry:\n%s", dump)
	}
	// conf and dirs report the bytes on disk: the Raft log is never empty.
	conf := fourLetter(t, s.Addr, "conf")
	if strings.Contains(conf, "dataLogSize=0\n") {
		t.Errorf("conf reports an empty log:\n%s", conf)
	}
	if dirs := fourLetter(t, s.Addr, "dirs"); strings.Contains(dirs, "logdir_size: 0\n") {
		t.Errorf("dirs reports an empty log:\n%s", dirs)
	}
	// stmk is followed by an 8-byte mask, which ZooKeeper echoes as a long.
	if got := fourLetter(t, s.Addr, "stmk", be64(0x102)...); got != "258" {
		t.Errorf("stmk = %q", got)
	}
	// srst and crst reset the counters srvr and cons print.
	if got := fourLetter(t, s.Addr, "srst"); got != "Server stats reset.\n" {
		t.Errorf("srst = %q", got)
	}
	if got := fourLetter(t, s.Addr, "srvr"); !strings.Contains(got, "Latency min/avg/max: 0/0.0/0\n") {
		t.Errorf("srvr after srst:\n%s", got)
	}
	if got := fourLetter(t, s.Addr, "crst"); got != "Connection stats reset.\n" {
		t.Errorf("crst = %q", got)
	}
	// The server still serves normally after all that.
	if d, _ := getData(t, c, "/eph", false); d != "data" {
		t.Fatalf("data %q", d)
	}
}

// hexID formats a session id as Long.toHexString does.
func hexID(id int64) string { return fmt.Sprintf("%x", uint64(id)) }

// TestFourLetterWhitelist checks the refusal message for commands off the whitelist, with srvr always
// allowed.
func TestFourLetterWhitelist(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.FourLetterWords = []string{"srvr"} }))
	for _, cmd := range []string{"ruok", "mntr", "cons", "dump", "envi", "wchs"} {
		want := cmd + " is not executed because it is not in the whitelist.\n"
		if got := fourLetter(t, s.Addr, cmd); got != want {
			t.Errorf("%s = %q, want %q", cmd, got, want)
		}
	}
	if got := fourLetter(t, s.Addr, "stmk", be64(1)...); got != "stmk is not executed because it is not in the whitelist.\n" {
		t.Errorf("stmk = %q", got)
	}
	if oks := zk.FLWRuok([]string{s.Addr}, 5*time.Second); len(oks) != 1 || oks[0] {
		t.Errorf("FLWRuok on a refused ruok = %v", oks)
	}
	if stats, ok := zk.FLWSrvr([]string{s.Addr}, 5*time.Second); !ok || stats[0].Mode != zk.ModeStandalone {
		t.Errorf("srvr must stay enabled: %v %+v", ok, stats)
	}
	// A client still connects after the refusals.
	c := dial(t, s.Addr, wireclient.Options{})
	create(t, c, "/ok", "", proto.ModePersistent)
}

// TestFourLetterWordsDuringHandshakes runs the commands that walk every
// connection (cons, stat, dump, wchc) while sessions connect, watch and
// leave, so the race detector sees their reads against the handshake's writes.
func TestFourLetterWordsDuringHandshakes(t *testing.T) {
	s := herdtest.Start(t)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			nc, err := net.Dial("tcp", s.Addr)
			if err != nil {
				continue
			}
			_, _ = nc.Write([]byte([]string{"cons", "stat", "dump", "wchc", "mntr"}[i%5]))
			_, _ = io.ReadAll(nc)
			nc.Close()
		}
	}()
	for i := 0; i < 30; i++ {
		c := dial(t, s.Addr, wireclient.Options{})
		exists(t, c, "/w", true)
		c.Drop()
	}
	close(stop)
	<-done
}
