package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/server/zoocfg"
)

const wait = 20 * time.Second

// testTiming keeps elections quick but tolerant of a busy 2-core machine.
var testTiming = Timing{HeartbeatTimeout: 150 * time.Millisecond, ElectionTimeout: 150 * time.Millisecond,
	LeaderLeaseTimeout: 100 * time.Millisecond}

// listFSM is a state machine that keeps the list of entries applied.
type listFSM struct {
	mu       sync.Mutex
	entries  []string
	restores int
}

func (f *listFSM) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

func (f *listFSM) ApplyBatch(logs []*raft.Log) []interface{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]interface{}, len(logs))
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			f.entries = append(f.entries, string(l.Data))
			out[i] = "ok:" + string(l.Data)
		}
	}
	return out
}

func (f *listFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := json.Marshal(f.entries)
	return bytesSnapshot(b), err
}

func (f *listFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restores++
	return json.Unmarshal(b, &f.entries)
}

func (f *listFSM) has(entry string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.entries {
		if e == entry {
			return true
		}
	}
	return false
}

// testNode is one member of a test cluster.
type testNode struct {
	id      int
	dir     string
	members []Member
	peerL   string // addresses kept across restarts
	elecL   string
	faults  *Faults
	fsm     *listFSM
	node    *Node
	cfg     func(*Config)
}

type testCluster struct {
	t     *testing.T
	nodes []*testNode
}

// listenPair opens a member's peer and election listeners on free ports.
func listenPair(t *testing.T) (net.Listener, net.Listener) {
	t.Helper()
	p, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return p, e
}

func memberFor(t *testing.T, id int, p, e net.Listener, observer bool) Member {
	t.Helper()
	role := ""
	if observer {
		role = ":observer"
	}
	m, err := ParseMember(id, fmt.Sprintf("127.0.0.1:%d:%d%s", p.Addr().(*net.TCPAddr).Port, e.Addr().(*net.TCPAddr).Port, role))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// startCluster starts n voters; every node is stopped at test end.
func startCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	c := &testCluster{t: t}
	var members []Member
	var ls [][2]net.Listener
	for i := 1; i <= n; i++ {
		p, e := listenPair(t)
		ls = append(ls, [2]net.Listener{p, e})
		members = append(members, memberFor(t, i, p, e, false))
	}
	for i := range n {
		tn := &testNode{id: i + 1, dir: t.TempDir(), members: members, faults: &Faults{}}
		tn.peerL, tn.elecL = ls[i][0].Addr().String(), ls[i][1].Addr().String()
		c.nodes = append(c.nodes, tn)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, tn := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = tn.open(t, ls[i][0], ls[i][1])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, tn := range c.nodes {
			tn.stop()
		}
	})
	c.waitReady()
	return c
}

func (tn *testNode) open(t *testing.T, p, e net.Listener) error {
	if tn.fsm == nil {
		tn.fsm = &listFSM{}
	}
	cfg := Config{
		ID: tn.id, Members: tn.members, DataDir: tn.dir, FSM: tn.fsm, Timing: testTiming,
		PeerListener: p, ElectionListener: e, Faults: tn.faults,
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named("n" + strconv.Itoa(tn.id)),
	}
	if tn.cfg != nil {
		tn.cfg(&cfg)
	}
	if clusterConfigHook != nil && tn.cfg == nil {
		tn.cfg = clusterConfigHook
		tn.cfg(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	node, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	tn.node = node
	return nil
}

func (tn *testNode) stop() {
	if tn.node != nil {
		_ = tn.node.Kill()
		tn.node = nil
	}
}

// restart opens the node again on its old ports and data directory.
func (tn *testNode) restart(t *testing.T) {
	t.Helper()
	tn.stop()
	p := relisten(t, tn.peerL)
	e := relisten(t, tn.elecL)
	if err := tn.open(t, p, e); err != nil {
		t.Fatal(err)
	}
}

func relisten(t *testing.T, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("relisten %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // the old socket is still closing
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitReady waits until every running node serves and they agree on a leader.
func (c *testCluster) waitReady() *testNode {
	c.t.Helper()
	var leader *testNode
	eventually(c.t, "a leader every running node follows", func() bool {
		leader = nil
		id := 0
		for _, tn := range c.nodes {
			if tn.node == nil {
				continue
			}
			st := tn.node.State()
			if !st.Ready || (id != 0 && st.Leader != id) {
				return false
			}
			id = st.Leader
			if st.Role == RoleLeader {
				leader = tn
			}
		}
		return leader != nil
	})
	return leader
}

func (c *testCluster) follower() *testNode {
	for _, tn := range c.nodes {
		if tn.node != nil && tn.node.State().Role == RoleFollower {
			return tn
		}
	}
	c.t.Fatal("no follower")
	return nil
}

func propose(t *testing.T, s *Stream, data string) Applied {
	t.Helper()
	res, err := s.Propose([]byte(data)).Wait()
	if err != nil {
		t.Fatalf("propose %q: %v", data, err)
	}
	if res.Response != "ok:"+data {
		t.Fatalf("propose %q: response %v", data, res.Response)
	}
	return res
}

func TestProposeAtEveryNodeAppliesEverywhereInOrder(t *testing.T) {
	c := startCluster(t, 3)
	c.waitReady()
	for _, tn := range c.nodes {
		s := tn.node.NewStream()
		var ps []*Proposal
		for i := range 50 {
			ps = append(ps, s.Propose([]byte(fmt.Sprintf("n%d-%d", tn.id, i))))
		}
		last := uint64(0)
		for i, p := range ps {
			res, err := p.Wait()
			if err != nil {
				t.Fatalf("node %d entry %d: %v", tn.id, i, err)
			}
			if res.Index <= last {
				t.Fatalf("node %d entry %d at index %d after %d: out of order", tn.id, i, res.Index, last)
			}
			last = res.Index
			// Answered only once applied here: the proposer reads its write.
			if !tn.fsm.has(fmt.Sprintf("n%d-%d", tn.id, i)) {
				t.Fatalf("node %d answered entry %d before applying it", tn.id, i)
			}
		}
	}
	for _, tn := range c.nodes {
		eventually(t, "every entry on every node", func() bool { return tn.fsm.has("n3-49") && tn.fsm.has("n1-49") })
	}
}

func TestSyncAtFollowerSeesWriteAcknowledgedElsewhere(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	var followers []*testNode
	for _, tn := range c.nodes {
		if tn != leader {
			followers = append(followers, tn)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i := range 20 {
		w := fmt.Sprintf("w%d", i)
		propose(t, followers[0].node.NewStream(), w)
		if err := followers[1].node.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if !followers[1].fsm.has(w) {
			t.Fatalf("sync at node %d does not show %s acknowledged at node %d", followers[1].id, w, followers[0].id)
		}
	}
}

func TestLeaderKilledNewLeaderTakesWrites(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	f := c.follower()
	propose(t, f.node.NewStream(), "before")
	leader.stop()
	c.waitReady()
	eventually(t, "a write through the new leader", func() bool {
		_, err := f.node.Propose([]byte("after")).Wait()
		return err == nil
	})
	leader.restart(t)
	eventually(t, "the old leader catches up", func() bool { return leader.fsm.has("after") })
}

func TestCutNodeCommitsNothingAndRejoins(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	// Cut the leader: a minority of one. It must step down and commit nothing.
	leader.faults.Cut()
	eventually(t, "the cut leader to stop serving", func() bool { return !leader.node.State().Ready })
	var rest []*testNode
	for _, tn := range c.nodes {
		if tn != leader {
			rest = append(rest, tn)
		}
	}
	if _, err := leader.node.Propose([]byte("minority")).Wait(); err == nil {
		t.Fatal("a node cut from the majority acknowledged a write")
	}
	eventually(t, "a new leader among the majority", func() bool {
		return rest[0].node.State().Ready && rest[0].node.State().Leader != leader.id
	})
	propose(t, rest[0].node.NewStream(), "majority")
	leader.faults.Heal()
	eventually(t, "the healed node to catch up", func() bool { return leader.fsm.has("majority") })
	for _, tn := range c.nodes {
		if tn.fsm.has("minority") {
			t.Fatalf("node %d applied the minority's write", tn.id)
		}
	}
}

func TestStreamBreaksAtFailure(t *testing.T) {
	c := startCluster(t, 3)
	c.waitReady()
	f := c.follower()
	s := f.node.NewStream()
	propose(t, s, "one")
	f.faults.Cut()
	eventually(t, "the cut follower to lose its leader", func() bool { return !f.node.State().Ready })
	if _, err := s.Propose([]byte("two")).Wait(); err == nil {
		t.Fatal("a write succeeded without a leader")
	}
	f.faults.Heal()
	c.waitReady()
	if _, err := s.Propose([]byte("three")).Wait(); !errors.Is(err, ErrStreamBroken) {
		t.Fatalf("a stream after a failure: %v, want ErrStreamBroken", err)
	}
}

func TestSnapshotInstallCatchesUpRestartedNode(t *testing.T) {
	// Small log files, so that compaction really drops the entries the
	// stopped node needs.
	cl := startClusterWith(t, 3, func(cfg *Config) {
		cfg.TrailingLogs, cfg.SnapshotThreshold, cfg.LogSegmentSize = 5, 1<<20, 64<<10
	})
	leader := cl.waitReady()
	lag := cl.follower()
	lag.stop()
	s := leader.node.NewStream()
	pad := strings.Repeat("x", 4<<10)
	// Two snapshots: the log is compacted only up to the older one, so that a
	// damaged newest snapshot can fall back on it (server/storage).
	for round := range 2 {
		for i := range 40 {
			propose(t, s, fmt.Sprintf("e%d", 40*round+i)+pad)
		}
		if err := leader.node.Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	var l raft.Log
	if err := leader.node.store.Log.GetLog(5, &l); err == nil {
		t.Fatal("compaction left the entries the stopped node needs")
	}
	lag.restart(t)
	eventually(t, "the restarted node to catch up", func() bool { return lag.fsm.has("e79" + pad) })
	lag.fsm.mu.Lock()
	restores := lag.fsm.restores
	lag.fsm.mu.Unlock()
	if restores == 0 {
		t.Fatal("the node caught up without installing the leader's snapshot")
	}
	// Writes forwarded by the caught-up node apply normally.
	propose(t, lag.node.NewStream(), "after-install")
}

func startClusterWith(t *testing.T, n int, f func(*Config)) *testCluster {
	t.Helper()
	old := clusterConfigHook
	clusterConfigHook = f
	defer func() { clusterConfigHook = old }()
	return startCluster(t, n)
}

// clusterConfigHook changes every node's Config in startCluster.
var clusterConfigHook func(*Config)

func TestMembershipAddObserverAndVoterRemoveVoter(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	// A fresh fourth node with the three members and itself waits to be added.
	p, e := listenPair(t)
	obs := memberFor(t, 4, p, e, true)
	tn := &testNode{id: 4, dir: t.TempDir(), members: append(append([]Member(nil), c.nodes[0].members...), obs),
		faults: &Faults{}, peerL: p.Addr().String(), elecL: e.Addr().String()}
	if err := tn.open(t, p, e); err != nil {
		t.Fatal(err)
	}
	c.nodes = append(c.nodes, tn)
	if _, err := c.follower().node.ChangeMembers(ctx, Change{Add: []Member{obs}}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a follower changed the membership: %v", err)
	}
	if _, err := leader.node.ChangeMembers(ctx, Change{Add: []Member{obs}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the observer to follow", func() bool { return tn.node.State().Role == RoleObserver })
	propose(t, tn.node.NewStream(), "from-observer")
	eventually(t, "the observer's write on the leader", func() bool { return leader.fsm.has("from-observer") })

	// Promote it to a voter, then remove an original voter.
	voter := obs
	voter.Role = zoocfg.RoleParticipant
	if _, err := leader.node.ChangeMembers(ctx, Change{Add: []Member{voter}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new voter to follow", func() bool { return tn.node.State().Role == RoleFollower })
	gone := c.follower()
	if gone == tn {
		gone = c.nodes[0]
		if gone == leader {
			gone = c.nodes[1]
		}
	}
	if _, err := c.waitReady().node.ChangeMembers(ctx, Change{Remove: []int{gone.id}}); err != nil {
		t.Fatal(err)
	}
	ms, _, err := leader.node.Members()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("members after remove: %v", ms)
	}
	for _, m := range ms {
		if m.ID == gone.id || m.Observer() {
			t.Fatalf("members after remove: %v", ms)
		}
	}
	eventually(t, "the removed node to stop serving", func() bool { return !gone.node.State().Ready })
	propose(t, tn.node.NewStream(), "after-remove")
}

func TestDisagreeingServerListIsRefused(t *testing.T) {
	var members []Member
	var ls [][2]net.Listener
	for i := 1; i <= 2; i++ {
		p, e := listenPair(t)
		ls = append(ls, [2]net.Listener{p, e})
		members = append(members, memberFor(t, i, p, e, false))
	}
	good := &testNode{id: 1, dir: t.TempDir(), members: members, faults: &Faults{}}
	if err := good.open(t, ls[0][0], ls[0][1]); err != nil {
		t.Fatal(err)
	}
	defer good.stop()
	// Node 2 lists node 1 with a different peer port.
	wrong := append([]Member(nil), members...)
	wrong[0].PeerPort++
	bad := &testNode{id: 2, dir: t.TempDir(), members: wrong, faults: &Faults{}}
	err := bad.open(t, ls[1][0], ls[1][1])
	if err == nil {
		bad.stop()
		t.Fatal("a node whose server list disagrees started")
	}
	t.Logf("refused: %v", err)
	if !errors.Is(err, ErrConfig) || !containsAll(err.Error(), "server.1") {
		t.Fatalf("refusal does not name the line: %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestStreamRidesOutLeaderKill: a follower's stream keeps proposing while
// the leader is killed. Entries in flight are in doubt, settled under the
// new leader (applied already, or proposed again); none fails, every one is
// applied exactly once and in order.
func TestStreamRidesOutLeaderKill(t *testing.T) {
	c := startClusterWith(t, 3, func(cfg *Config) { cfg.Timing.LeaderWait = wait })
	leader := c.waitReady()
	f := c.follower()
	s := f.node.NewStream()
	var ps []*Proposal
	const total = 300
	for i := range total {
		ps = append(ps, s.Propose([]byte(fmt.Sprintf("s%d", i))))
		if i == 100 {
			leader.stop()
		}
		if i%10 == 9 {
			// Keep some in flight, not all: a client pipelines a little.
			if _, err := ps[i-5].Wait(); err != nil {
				t.Fatalf("entry %d: %v", i-5, err)
			}
		}
	}
	last := uint64(0)
	for i, p := range ps {
		res, err := p.Wait()
		if err != nil {
			t.Fatalf("entry %d failed across the leader change: %v", i, err)
		}
		if res.Index <= last {
			t.Fatalf("entry %d applied at %d after %d: out of order", i, res.Index, last)
		}
		last = res.Index
	}
	f.fsm.mu.Lock()
	defer f.fsm.mu.Unlock()
	seen := map[string]int{}
	for _, e := range f.fsm.entries {
		seen[e]++
	}
	for i := range total {
		if n := seen[fmt.Sprintf("s%d", i)]; n != 1 {
			t.Fatalf("entry s%d applied %d times", i, n)
		}
	}
}

// TestStreamAtLeaderRidesOutLeadershipLoss: a stream on the leader, which is
// cut off and healed while entries are in flight: they are settled once it
// follows the new leader, each applied once, in order.
func TestStreamAtLeaderRidesOutLeadershipLoss(t *testing.T) {
	c := startClusterWith(t, 3, func(cfg *Config) { cfg.Timing.LeaderWait = wait })
	leader := c.waitReady()
	s := leader.node.NewStream()
	var ps []*Proposal
	for i := range 20 {
		ps = append(ps, s.Propose([]byte(fmt.Sprintf("l%d", i))))
	}
	leader.faults.Cut()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 20; i < 40; i++ {
			ps = append(ps, s.Propose([]byte(fmt.Sprintf("l%d", i))))
		}
	}()
	eventually(t, "the cut leader to step down", func() bool { return leader.node.State().Role != RoleLeader })
	leader.faults.Heal()
	<-done
	last := uint64(0)
	for i, p := range ps {
		res, err := p.Wait()
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if res.Index <= last {
			t.Fatalf("entry %d out of order", i)
		}
		last = res.Index
	}
	leader.fsm.mu.Lock()
	defer leader.fsm.mu.Unlock()
	seen := map[string]int{}
	for _, e := range leader.fsm.entries {
		seen[e]++
	}
	for i := range 40 {
		if n := seen[fmt.Sprintf("l%d", i)]; n != 1 {
			t.Fatalf("entry l%d applied %d times", i, n)
		}
	}
}
