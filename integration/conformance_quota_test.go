package integration

import (
	"context"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

// quotaScript sets quotas the way zkCli does (raw creates under
// /zookeeper/quota) and writes under them with enforceQuota=true: the stats
// the server keeps, hard limits refused with QuotaExceeded (before the
// version check), soft limits never refused, deletes always allowed, an
// ephemeral counted until its session closes, a multi refused whole.
var quotaScript = script{"quotas (enforceQuota=true)", []step{
	connect(0),
	connect(1),
	create(0, "/qc", bs("ab"), open, pers),
	create(0, "/qc/a", bs("x"), open, pers),
	create(0, "/zookeeper/quota/qc", nil, open, pers),
	create(0, "/zookeeper/quota/qc/zookeeper_limits", bs("count=-1,bytes=-1=;byteHardLimit=9;countHardLimit=4"), open, pers),
	create(0, "/zookeeper/quota/qc/zookeeper_stats", bs("count=0,bytes=0"), open, pers),
	getData(0, "/zookeeper/quota/qc/zookeeper_stats", false), // the server's count, not the client's
	create(0, "/qc/b", bs("yy"), open, pers),
	create(1, "/qc/e", nil, open, eph),
	create(0, "/qc/b/deep", nil, open, pers).want(proto.ErrQuotaExceeded), // count 5 > 4
	getData(0, "/zookeeper/quota/qc/zookeeper_stats", false),
	closeSession(1), // the ephemeral goes: count 3
	create(0, "/qc/b/deep", nil, open, pers),
	setData(0, "/qc/a", bs("xyzw"), 0),                                 // bytes 5+3 = 8 ≤ 9
	setData(0, "/qc/a", bs("xyzwvu"), 99).want(proto.ErrQuotaExceeded), // 10 > 9, checked before the version
	setData(0, "/qc/a", bs("xyzwv"), 99).want(proto.ErrBadVersion),
	setData(0, "/qc/a", bs(""), -1),
	multi(0, mCreate("/qc/m1", nil, pers), mCreate("/qc/m2", bs("z"), pers)), // the first sub-op is over: -125, the rest -2
	getData(0, "/zookeeper/quota/qc/zookeeper_stats", false),
	del(0, "/qc/b/deep", 0),
	del(0, "/qc/b", 0),
	getData(0, "/zookeeper/quota/qc/zookeeper_stats", false),
	// Soft limits only: over them is allowed (and logged).
	create(0, "/qs", nil, open, pers),
	create(0, "/zookeeper/quota/qs", nil, open, pers),
	create(0, "/zookeeper/quota/qs/zookeeper_limits", bs("count=1,bytes=1"), open, pers),
	create(0, "/zookeeper/quota/qs/zookeeper_stats", bs("count=9,bytes=9"), open, pers),
	create(0, "/qs/over", bs("too much"), open, pers),
	getData(0, "/zookeeper/quota/qs/zookeeper_stats", false),
	// The limits are read at each write: raising them lets writes through.
	setData(0, "/zookeeper/quota/qc/zookeeper_limits", bs("count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=100"), 0),
	create(0, "/qc/b", bs("again"), open, pers),
	// Without the limits node there is no quota any more; the stats stay.
	del(0, "/zookeeper/quota/qc/zookeeper_limits", 1),
	create(0, "/qc/free", nil, open, pers),
	getData(0, "/zookeeper/quota/qc/zookeeper_stats", false),
}}

// TestQuotaConformance runs quotaScript on ZooKeeper 3.8 with
// enforceQuota=true, on herd and on a three-node herd cluster with
// EnforceQuota, and requires the same outcomes step by step.
func TestQuotaConformance(t *testing.T) {
	zkpeer.Require(t, zkpeer.Jar)
	ref := Target{Name: "reference", Addr: zkpeer.StartT(t, zkpeer.Options{Extra: []string{"enforceQuota=true"}}).Addr}
	enforce := herdtest.WithConfig(func(c *server.Config) { c.EnforceQuota = true })
	cluster := herdtest.StartCluster(t, 3, enforce, herdtest.WithConfig(func(c *server.Config) { c.ReconfigEnabled = false }))
	tgs := []Target{
		{Name: "herd", Addr: herdtest.Start(t, enforce).Addr},
		{Name: "herd×3", Addr: cluster.Nodes[0].Addr, Addrs: cluster.Addrs(), Cluster: true, Settle: cluster.Settle},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	want := runScript(ctx, ref, quotaScript)
	checkExpectations(t, quotaScript, want)
	if testing.Verbose() {
		t.Logf("reference transcript:\n%s", transcript(quotaScript, want))
	}
	for _, tg := range tgs {
		got := runScript(ctx, tg, quotaScript)
		if d := diffResults(quotaScript, want, got, tg.Cluster); d != "" {
			t.Errorf("%s diverges from ZooKeeper (! marks differing steps; left reference, right %s):\n%s", tg.Name, tg.Name, d)
		}
	}
	// Negative control: herd without EnforceQuota lets the hard limits pass,
	// so the script must tell it apart.
	lax := Target{Name: "herd (enforceQuota=false)", Addr: herdtest.Start(t).Addr}
	if diffResults(quotaScript, want, runScript(ctx, lax, quotaScript), false) == "" {
		t.Error("herd without EnforceQuota matched ZooKeeper with enforceQuota=true: the script does not test enforcement")
	}
}
