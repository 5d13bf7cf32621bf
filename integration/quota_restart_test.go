package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/server"
)

// TestQuotaSurvivesRestart: quota stats taken into snapshots (SnapCount 4)
// and the log come back after a restart, and keep following writes, and a
// hard limit is still enforced.
func TestQuotaSurvivesRestart(t *testing.T) {
	srv := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.EnforceQuota = true; c.SnapCount = 4 }))
	connect := func() *zk.Conn {
		c, _, err := zk.Connect([]string{srv.Addr}, 10*time.Second, zk.WithLogger(quietLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := connect()
	acl := zk.WorldACL(zk.PermAll)
	for _, n := range []struct{ path, data string }{
		{"/r", "1"}, {"/zookeeper/quota/r", ""},
		{"/zookeeper/quota/r/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=5"},
		{"/zookeeper/quota/r/zookeeper_stats", "count=0,bytes=0"},
		{"/r/a", "22"}, {"/r/b", "333"},
	} {
		if _, err := c.Create(n.path, []byte(n.data), 0, acl); err != nil {
			t.Fatalf("create %s: %v", n.path, err)
		}
	}
	stats := func(c *zk.Conn) string {
		d, _, err := c.Get("/zookeeper/quota/r/zookeeper_stats")
		if err != nil {
			t.Fatal(err)
		}
		return string(d)
	}
	if got := stats(c); got != "count=3,bytes=6" {
		t.Fatalf("stats before restart %q", got)
	}
	c.Close()
	srv.Restart()
	c = connect()
	defer c.Close()
	if got := stats(c); got != "count=3,bytes=6" {
		t.Fatalf("stats after restart %q, want count=3,bytes=6", got)
	}
	for _, p := range []string{"/r/c", "/r/d"} {
		if _, err := c.Create(p, nil, 0, acl); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	// go-zookeeper has no name for -125 and reports it by number.
	if _, err := c.Create("/r/e", nil, 0, acl); err == nil || !strings.Contains(err.Error(), "-125") {
		t.Fatalf("create over the hard count limit after restart: %v, want QuotaExceeded (-125)", err)
	}
	if got := stats(c); got != "count=5,bytes=6" {
		t.Errorf("stats after more writes %q, want count=5,bytes=6", got)
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
