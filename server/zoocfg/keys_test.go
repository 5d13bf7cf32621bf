package zoocfg

import (
	"os"
	"strings"
	"testing"
)

// TestUnknownAndIgnoredKeys checks the warnings' material: a misspelled key
// is unknown with the key it was probably meant as, a ZooKeeper key herd does
// not honour is known, and each names its key and line.
func TestUnknownAndIgnoredKeys(t *testing.T) {
	c, err := Parse(strings.NewReader("dataDir=/d\ntickTme=2000\nforceSync=no\nmaxClientCnx=10\nadmin.serverPort=9090\nzookeeper.jute.maxbuffer=100\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Ignored) != 3 {
		t.Fatalf("Ignored = %v", c.Ignored)
	}
	want := []struct {
		key, suggestion, text string
		known                 bool
	}{
		{"tickTme", "tickTime", "line 2: tickTme is not a setting herd knows (did you mean tickTime?); ignored", false},
		{"forceSync", "", "line 3: forceSync is a ZooKeeper setting herd does not honour; ignored", true},
		{"maxClientCnx", "maxClientCnxns", "line 4: maxClientCnx is not a setting herd knows (did you mean maxClientCnxns?); ignored", false},
	}
	for i, w := range want {
		ig := c.Ignored[i]
		if ig.Key != w.key || ig.Suggestion != w.suggestion || ig.Known != w.known || ig.String() != w.text {
			t.Errorf("Ignored[%d] = %+v %q, want %+v", i, ig, ig.String(), w)
		}
	}
	if c.AdminPort != 9090 || c.JuteMaxBuffer != 100 {
		t.Errorf("admin port %d jute.maxbuffer %d", c.AdminPort, c.JuteMaxBuffer)
	}
	// A far-off key gets no suggestion.
	c, _ = Parse(strings.NewReader("dataDir=/d\ncompletely.different=1\n"))
	if len(c.Ignored) != 1 || c.Ignored[0].Suggestion != "" {
		t.Errorf("far-off key: %+v", c.Ignored)
	}
}

func TestOpsKeys(t *testing.T) {
	c, err := Parse(strings.NewReader("dataDir=/d\nmetricsProvider.className=" + PrometheusProvider +
		"\nmetricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=7001\nadmin.enableServer=false\n" +
		"admin.serverAddress=127.0.0.2\nadmin.serverPort=0\nherd.slowRequestMs=250\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.PrometheusEnabled() || c.MetricsAddr() != "127.0.0.1:7001" || c.AdminEnabled || c.AdminAddr() != "127.0.0.2:0" ||
		c.SlowRequest.Milliseconds() != 250 || len(c.Ignored) != 0 {
		t.Errorf("parsed %+v", c)
	}
	d := Default()
	if d.PrometheusEnabled() || d.MetricsAddr() != "0.0.0.0:7000" || !d.AdminEnabled || d.AdminAddr() != "0.0.0.0:8080" {
		t.Errorf("defaults %+v", d)
	}
	if _, err := Parse(strings.NewReader("dataDir=/d\nmetricsProvider.httpPort=70000\n")); err == nil ||
		!strings.Contains(err.Error(), "line 2: metricsProvider.httpPort") {
		t.Errorf("bad port: %v", err)
	}
}

// TestKeysTable checks the table itself: one entry per name, every honoured
// key settable, and the README's configuration table equal to KeyTable().
func TestKeysTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys {
		if seen[k.Name] {
			t.Errorf("%s listed twice", k.Name)
		}
		seen[k.Name] = true
		if k.Honoured != (k.set != nil) && k.Name != "server.*" {
			t.Errorf("%s: honoured %v but set %v", k.Name, k.Honoured, k.set != nil)
		}
		if k.Doc == "" {
			t.Errorf("%s has no Doc", k.Name)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- zoocfg keys: generated from server/zoocfg/keys.go -->\n", "<!-- end of zoocfg keys -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	table, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md lacks the markers %q and %q around the configuration table", begin, end)
	}
	if table != KeyTable() {
		t.Errorf("README.md's configuration table is out of date; replace it with:\n%s", KeyTable())
	}
}
