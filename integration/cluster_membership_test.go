package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
)

// withSuper lets "super:test" reconfigure the cluster.
func withSuper() herdtest.Option {
	return herdtest.WithConfig(func(c *server.Config) { c.SuperDigest = tree.DigestID("super:test") })
}

// writer creates znodes through go-zookeeper until stopped and remembers
// which creates were acknowledged.
type writer struct {
	mu    sync.Mutex
	acked []string
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startWriter(t *testing.T, addrs []string, prefix string) *writer {
	t.Helper()
	w := &writer{stop: make(chan struct{})}
	zc, _ := zkConnect(t, addrs, 6*time.Second)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			p := fmt.Sprintf("%s-%d", prefix, i)
			if _, err := zc.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err == nil {
				w.mu.Lock()
				w.acked = append(w.acked, p)
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *writer) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

// check requires every acknowledged create at node n.
func (w *writer) check(t *testing.T, n *herdtest.Node) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	r := rawSession(t, n.Addr, wireclient.Options{})
	for _, p := range w.acked {
		if _, err := rawGet(t, r, p); err != nil {
			t.Fatalf("acknowledged %s missing at node %d: %v", p, n.ID, err)
		}
	}
}

// TestClusterMembershipChangesUnderWrites adds an observer, promotes it to a
// voter and removes an original voter with reconfig while a client writes;
// /zookeeper/config follows each change, and no acknowledged write is lost.
func TestClusterMembershipChangesUnderWrites(t *testing.T) {
	c := herdtest.StartCluster(t, 3, withSuper())
	w := startWriter(t, c.Addrs(), "/member")
	admin, _ := zkConnect(t, c.Addrs(), 10*time.Second)
	if err := admin.AddAuth("digest", []byte("super:test")); err != nil {
		t.Fatal(err)
	}
	progress := func(what string) {
		t.Helper()
		n := w.count()
		waitUntil(t, "writes to go on "+what, func() bool { return w.count() >= n+20 })
	}
	progress("before the changes")

	n4 := c.AddNode(true)
	if n4.State().Ready {
		t.Fatal("a node not yet added serves")
	}
	if _, err := admin.IncrementalReconfig([]string{n4.Member().Line()}, nil, -1); err != nil {
		t.Fatalf("reconfig add observer: %v", err)
	}
	waitUntil(t, "node 4 to observe", func() bool { return n4.State().Role == cluster.RoleObserver && n4.State().Ready })
	progress("after adding an observer")

	voter := n4.Member()
	voter.Role = "participant"
	if _, err := admin.IncrementalReconfig([]string{voter.Line()}, nil, -1); err != nil {
		t.Fatalf("reconfig promote: %v", err)
	}
	waitUntil(t, "node 4 to vote", func() bool { return n4.State().Role == cluster.RoleFollower })
	progress("after promoting it")

	gone := c.Followers()[0]
	if gone == n4 {
		gone = c.Followers()[1]
	}
	removed, err := admin.IncrementalReconfig(nil, []string{fmt.Sprint(gone.ID)}, -1)
	if err != nil {
		t.Fatalf("reconfig remove: %v", err)
	}
	waitUntil(t, "the removed node to stop serving", func() bool { return !gone.State().Ready })
	progress("after removing a voter")
	w.halt()

	// The admin's session may be on the removed node, which never sees the
	// change: it drops its clients, and the session moves to a member.
	var data []byte
	waitUntil(t, "/zookeeper/config to show the removal", func() bool {
		_, _ = admin.Sync("/zookeeper/config")
		d, st, err := admin.Get("/zookeeper/config")
		data = d
		return err == nil && st.Mzxid >= removed.Mzxid
	})
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "version=") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 3 || strings.Contains(string(data), fmt.Sprintf("server.%d=", gone.ID)) ||
		!strings.Contains(string(data), voter.Line()) {
		t.Fatalf("/zookeeper/config after the changes:\n%s", data)
	}
	gone.Stop()
	if err := c.Settle(clusterCtx(t)); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if n.Running() {
			w.check(t, n)
		}
	}
}

// TestClusterReconfigNeedsAuthAndVersion: only the super user reconfigures,
// and a stale curConfigId is refused with BadVersion.
func TestClusterReconfigNeedsAuthAndVersion(t *testing.T) {
	c := herdtest.StartCluster(t, 3, withSuper())
	anon, _ := zkConnect(t, c.Addrs(), 10*time.Second)
	if _, err := anon.IncrementalReconfig(nil, []string{"3"}, -1); err != zk.ErrNoAuth {
		t.Fatalf("reconfig without auth: %v, want ErrNoAuth", err)
	}
	admin, _ := zkConnect(t, c.Addrs(), 10*time.Second)
	if err := admin.AddAuth("digest", []byte("super:test")); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.IncrementalReconfig(nil, []string{"3"}, 0x7777); err != zk.ErrBadVersion {
		t.Fatalf("reconfig with a stale version: %v, want ErrBadVersion", err)
	}
}

// TestClusterRejoinCatchesUpBySnapshot: a node down while the others write
// and compact their logs comes back and installs the leader's snapshot.
func TestClusterRejoinCatchesUpBySnapshot(t *testing.T) {
	c := herdtest.StartCluster(t, 3, herdtest.WithConfig(func(cfg *server.Config) {
		// Small log files and few trailing entries, so compaction really drops
		// what the stopped node needs.
		cfg.LogSegmentSize, cfg.TrailingLogs, cfg.SnapCount = 64<<10, 10, 1<<20
	}))
	leader := c.Leader()
	lag := c.Followers()[0]
	lag.Stop()
	wr := rawSession(t, leader.Addr, wireclient.Options{})
	pad := strings.Repeat("x", 4<<10)
	// Two snapshots: the log is compacted only up to the older one, so that a
	// damaged newest snapshot can fall back on it (server/storage).
	for round := range 2 {
		for i := range 30 {
			rawCreate(t, wr, fmt.Sprintf("/snap%d", 30*round+i), pad, proto.ModePersistent)
		}
		if err := leader.Server().Cluster().Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	snapDir := filepath.Join(lag.Config.DataDir, "raft", "snapshots")
	before, _ := os.ReadDir(snapDir)
	lag.Restart()
	c.Leader()
	if err := c.Settle(clusterCtx(t)); err != nil {
		t.Fatal(err)
	}
	r := rawSession(t, lag.Addr, wireclient.Options{})
	for i := range 60 {
		if got, err := rawGet(t, r, fmt.Sprintf("/snap%d", i)); err != nil || got != pad {
			t.Fatalf("/snap%d at the rejoined node: %v", i, err)
		}
	}
	after, _ := os.ReadDir(snapDir)
	if len(after) <= len(before) {
		t.Fatalf("the rejoined node caught up without installing a snapshot (%d snapshots, %d before)", len(after), len(before))
	}
}
