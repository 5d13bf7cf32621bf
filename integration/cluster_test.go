package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// clusterWait bounds every wait in the cluster tests; conditions are awaited,
// never slept for.
const clusterWait = 30 * time.Second

func clusterCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	t.Cleanup(cancel)
	return ctx
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawSession dials a wireclient session at addr.
func rawSession(t *testing.T, addr string, opts wireclient.Options) *wireclient.Conn {
	t.Helper()
	c, err := wireclient.Dial(clusterCtx(t), addr, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(c.Drop)
	return c
}

func rawCreate(t *testing.T, c *wireclient.Conn, path, data string, mode proto.CreateMode) proto.ReplyHeader {
	t.Helper()
	hdr, err := c.Do(clusterCtx(t), proto.OpCreate, &proto.CreateRequest{Path: path, Data: []byte(data),
		ACL: proto.OpenACLUnsafe, Flags: mode}, &proto.CreateResponse{})
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	return hdr
}

func rawGet(t *testing.T, c *wireclient.Conn, path string) (string, error) {
	t.Helper()
	var resp proto.GetDataResponse
	_, err := c.Do(clusterCtx(t), proto.OpGetData, &proto.PathWatchRequest{Path: path}, &resp)
	return string(resp.Data), err
}

func rawSync(t *testing.T, c *wireclient.Conn, path string) {
	t.Helper()
	if _, err := c.Do(clusterCtx(t), proto.OpSync, &proto.PathRequest{Path: path}, &proto.PathResponse{}); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// zkConnect connects go-zookeeper to addrs and waits for its session.
func zkConnect(t *testing.T, addrs []string, timeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, ev, err := zk.Connect(addrs, timeout, zk.WithLogger(discardLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	waitSession(t, ev)
	return c, ev
}

func waitSession(t *testing.T, ev <-chan zk.Event) zk.Event {
	t.Helper()
	timeout := time.After(clusterWait)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return e
			}
		case <-timeout:
			t.Fatal("no session")
		}
	}
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}

// TestClusterSyncAtFollowerSeesWriteAtAnotherNode: a write acknowledged at
// one follower is visible at another after sync, and read-your-writes holds
// at the follower that took the write.
func TestClusterSyncAtFollowerSeesWriteAtAnotherNode(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	fs := c.Followers()
	a := rawSession(t, fs[0].Addr, wireclient.Options{})
	b := rawSession(t, fs[1].Addr, wireclient.Options{})
	for i := range 20 {
		p := fmt.Sprintf("/sync%d", i)
		rawCreate(t, a, p, "v", proto.ModePersistent)
		if got, err := rawGet(t, a, p); err != nil || got != "v" {
			t.Fatalf("read-your-write at node %d: %q, %v", fs[0].ID, got, err)
		}
		rawSync(t, b, p)
		if got, err := rawGet(t, b, p); err != nil || got != "v" {
			t.Fatalf("after sync at node %d, %s reads %q, %v", fs[1].ID, p, got, err)
		}
	}
}

// TestClusterFourLetterWords: srvr, stat and mntr report each node's mode and
// the leader's follower counts; go-zookeeper's FLWSrvr parses them.
func TestClusterFourLetterWords(t *testing.T) {
	c := herdtest.StartClusterWithObservers(t, 3, 1)
	leader := c.Leader()
	stats, ok := zk.FLWSrvr(c.Addrs(), 5*time.Second)
	if !ok {
		for _, s := range stats {
			t.Logf("%s: %v", s.Server, s.Error)
		}
		t.Fatal("FLWSrvr failed")
	}
	for i, s := range stats {
		want := zk.ModeFollower
		if c.Nodes[i] == leader {
			want = zk.ModeLeader
		}
		if c.Nodes[i].ID == 4 {
			want = zk.ModeUnknown // go-zookeeper has no observer mode
		}
		if s.Mode != want {
			t.Errorf("node %d: FLWSrvr mode %v, want %v", c.Nodes[i].ID, s.Mode, want)
		}
	}
	if out := fourLetter(t, c.Nodes[3].Addr, "srvr"); !strings.Contains(out, "Mode: observer\n") {
		t.Errorf("observer srvr:\n%s", out)
	}
	if out := fourLetter(t, c.Nodes[1].Addr, "conf"); !strings.Contains(out, "serverId=2\n") ||
		!strings.Contains(out, c.Nodes[3].Member().Line()+"\n") || !strings.Contains(out, "peerType=0\n") {
		t.Errorf("conf lacks the membership:\n%s", out)
	}
	waitUntil(t, "the leader to count its synced followers", func() bool {
		out := fourLetter(t, leader.Addr, "mntr")
		return strings.Contains(out, "zk_server_state\tleader\n") && strings.Contains(out, "zk_quorum_size\t3\n") &&
			strings.Contains(out, "zk_learners\t3\n") && strings.Contains(out, "zk_synced_followers\t2\n") &&
			strings.Contains(out, "zk_synced_observers\t1\n")
	})
}

func fourLetter(t *testing.T, addr, cmd string) string {
	t.Helper()
	out, err := fourLetterWord(addr, cmd)
	if err != nil {
		t.Fatalf("%s at %s: %v", cmd, addr, err)
	}
	return out
}

// TestClusterLeaderKilledUnderWrites: clients spread over the nodes keep
// creating znodes while the leader is killed; a new leader serves, and every
// create that was acknowledged exists afterwards on every node.
func TestClusterLeaderKilledUnderWrites(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	leader := c.Leader()
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	progress := make(chan struct{}, 1000)
	for w := range 3 {
		zc, _ := zkConnect(t, c.Addrs(), 6*time.Second)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/kill-w%d-%d", w, i)
				if _, err := zc.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err == nil {
					mu.Lock()
					acked = append(acked, p)
					mu.Unlock()
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	awaitProgress := func(n int) {
		t.Helper()
		timeout := time.After(clusterWait)
		for range n {
			select {
			case <-progress:
			case <-timeout:
				t.Fatal("writes made no progress")
			}
		}
	}
	awaitProgress(50)
	leader.Kill()
	newLeader := c.Leader()
	if newLeader == leader {
		t.Fatal("the killed node still leads")
	}
	awaitProgress(50) // writes go on through the new leader
	close(stop)
	wg.Wait()
	leader.Restart()
	c.Leader()
	if err := c.Settle(clusterCtx(t)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range c.Nodes {
		r := rawSession(t, n.Addr, wireclient.Options{})
		for _, p := range acked {
			if _, err := rawGet(t, r, p); err != nil {
				t.Fatalf("acknowledged %s missing at node %d: %v", p, n.ID, err)
			}
		}
	}
}

// fourLetterWord sends cmd and returns everything the server answers.
func fourLetterWord(addr, cmd string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(nc)
	return string(b), err
}
