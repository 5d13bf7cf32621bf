package fourlw

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/zoocfg"
)

var (
	zkVersion = regexp.MustCompile(`3\.8\.\d+-[^,\s]+, built on [^\n\t]+`)
	javaDateR = regexp.MustCompile(`[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [A-Z]+ \d{4}`)
	hexR      = regexp.MustCompile(`0x[0-9a-f]+`)
	numR      = regexp.MustCompile(`\d+(\.\d+)?`)
	lopR      = regexp.MustCompile(`lop=[A-Z0-9]+`)
)

// shape hides what legitimately differs between two servers (version, dates,
// numbers, ids) and keeps the format.
func shape(s string) string {
	s = zkVersion.ReplaceAllString(s, "<V>")
	s = strings.ReplaceAll(s, FullVersion(), "<V>")
	s = javaDateR.ReplaceAllString(s, "<DATE>")
	s = lopR.ReplaceAllString(s, "lop=OP") // a ping may land between commands
	s = hexR.ReplaceAllString(s, "0xH")
	return numR.ReplaceAllString(s, "N")
}

func sortedLines(s string) string {
	l := strings.Split(s, "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

func keys(s, sep string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		k, _, _ := strings.Cut(line, sep)
		out = append(out, k)
	}
	return out
}

// TestMatchesZooKeeper compares every command's output with a real
// ZooKeeper 3.8 holding the same state as newFake: one session with an
// ephemeral /p/e and a data watch on /p, plus the 4lw connection itself.
func TestMatchesZooKeeper(t *testing.T) {
	peer := zkpeer.StartT(t, zkpeer.Options{})
	c, events, err := zk.Connect([]string{peer.Addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.After(10 * time.Second)
	for connected := false; !connected; {
		select {
		case ev := <-events:
			connected = ev.State == zk.StateHasSession
		case <-deadline:
			t.Fatal("no session with ZooKeeper")
		}
	}
	if _, err := c.Create("/p", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/p/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.GetW("/p"); err != nil {
		t.Fatal(err)
	}
	real := func(cmd string) string {
		out, err := zkpeer.FourLetter(peer.Addr, cmd, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return out
	}
	f := newFake()
	ours := func(cmd string) string { return Run(cmd, all, f) }

	for _, cmd := range []string{"ruok", "isro", "gtmk", "srvr", "wchs", "wchc", "wchp", "dirs"} {
		if r, o := shape(real(cmd)), shape(ours(cmd)); r != o {
			t.Errorf("%s:\nZooKeeper %q\nherd      %q", cmd, r, o)
		}
	}
	// Connections are listed in hash order by ZooKeeper.
	for _, cmd := range []string{"stat", "cons"} {
		if r, o := sortedLines(shape(real(cmd))), sortedLines(shape(ours(cmd))); r != o {
			t.Errorf("%s:\nZooKeeper %q\nherd      %q", cmd, r, o)
		}
	}
	// conf: same keys in the same order for a standalone server.
	cfg, err := zoocfg.Parse(strings.NewReader("dataDir=/d\nclientPort=2181\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.conf = ConfFromConfig(cfg, 1, 2)
	if r, o := keys(real("conf"), "="), keys(ours("conf"), "="); !slices.Equal(r, o) {
		t.Errorf("conf keys:\nZooKeeper %v\nherd      %v", r, o)
	}
	// envi: header, then zookeeper.version and host.name first.
	f.env = Environment()
	if r, o := keys(real("envi"), "=")[:3], keys(ours("envi"), "=")[:3]; !slices.Equal(r, o) {
		t.Errorf("envi keys: ZooKeeper %v herd %v", r, o)
	}
	// mntr: version and state first; every key herd prints exists in ZooKeeper's.
	rm, om := real("mntr"), ours("mntr")
	if r, o := shape(strings.Join(strings.SplitN(rm, "\n", 3)[:2], "\n")), shape(strings.Join(strings.SplitN(om, "\n", 3)[:2], "\n")); r != o {
		t.Errorf("mntr head: ZooKeeper %q herd %q", r, o)
	}
	realKeys := keys(rm, "\t")
	for _, k := range keys(om, "\t") {
		// zk_herd_* are herd's Raft figures, which ZooKeeper has no names for.
		if !slices.Contains(realKeys, k) && !strings.HasPrefix(k, "zk_herd_") {
			t.Errorf("mntr key %s is not one ZooKeeper prints", k)
		}
	}
	// The resets last: they clear the counters compared above.
	for _, cmd := range []string{"crst", "srst"} {
		if r, o := real(cmd), ours(cmd); r != o {
			t.Errorf("%s: ZooKeeper %q herd %q", cmd, r, o)
		}
	}
	// dump: the same sections; the ephemerals section has the same shape.
	rd, od := real("dump"), ours("dump")
	section := regexp.MustCompile(`(?s)ephemeral nodes dump:\n.*Connections dump:\n`)
	if r, o := shape(section.FindString(rd)), shape(section.FindString(od)); r != o || r == "" {
		t.Errorf("dump ephemerals:\nZooKeeper %q\nherd      %q", r, o)
	}
	header := regexp.MustCompile(`(?m)^(SessionTracker dump:|Session Sets|ephemeral nodes dump:|Connections dump:|Connections Sets).*$`)
	if r, o := shape(strings.Join(header.FindAllString(rd, -1), "|")), shape(strings.Join(header.FindAllString(od, -1), "|")); r != o {
		t.Errorf("dump headers:\nZooKeeper %q\nherd      %q", r, o)
	}
}
