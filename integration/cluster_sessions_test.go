package integration

import (
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// nextRawEvent returns c's next watch notification.
func nextRawEvent(t *testing.T, c *wireclient.Conn) wireclient.Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("connection ended before the event")
		}
		return ev
	case <-time.After(clusterWait):
		t.Fatal("no watch event")
	}
	panic("unreachable")
}

// waitRawClosed waits until the server closes c's connection.
func waitRawClosed(t *testing.T, c *wireclient.Conn) {
	t.Helper()
	timeout := time.After(clusterWait)
	for {
		select {
		case _, ok := <-c.Events():
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the server did not close the connection")
		}
	}
}

// TestClusterSessionMovesWithEphemeralsAndWatches: a client whose node dies
// re-attaches at another node with its session id and password, keeps its
// ephemeral node, and gets its watch back with SetWatches. A third
// connection taking the session over makes the second node drop its own.
func TestClusterSessionMovesWithEphemeralsAndWatches(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	fs := c.Followers()
	first, second := fs[0], fs[1]
	leader := c.Leader()

	a := rawSession(t, first.Addr, wireclient.Options{SessionTimeout: 10 * time.Second})
	rawCreate(t, a, "/eph", "mine", proto.ModeEphemeral)
	if _, err := a.Do(clusterCtx(t), proto.OpExists, &proto.PathWatchRequest{Path: "/later", Watch: true}, &proto.StatResponse{}); !errors.Is(err, proto.ErrNoNode) {
		t.Fatalf("exists /later: %v", err)
	}
	sid, pw, seen := a.SessionID(), a.Passwd(), a.LastZxid()
	first.Kill()

	b := reattachAny(t, []string{second.Addr}, wireclient.Options{SessionID: sid, Passwd: pw, LastZxid: seen, SessionTimeout: 10 * time.Second})
	if b.SessionID() != sid {
		t.Fatalf("re-attached as session %#x, want %#x", b.SessionID(), sid)
	}
	if _, err := b.Do(clusterCtx(t), proto.OpSetWatches, &proto.SetWatches{RelativeZxid: seen, Exist: []string{"/later"}}, nil); err != nil {
		t.Fatal(err)
	}
	var st proto.StatResponse
	if _, err := b.Do(clusterCtx(t), proto.OpExists, &proto.PathWatchRequest{Path: "/eph"}, &st); err != nil || st.Stat.EphemeralOwner != sid {
		t.Fatalf("the ephemeral after the move: owner %#x, %v", st.Stat.EphemeralOwner, err)
	}
	other := rawSession(t, leader.Addr, wireclient.Options{})
	rawCreate(t, other, "/later", "", proto.ModePersistent)
	if ev := nextRawEvent(t, b); ev.Type != proto.EventNodeCreated || ev.Path != "/later" {
		t.Fatalf("event after the move: %+v", ev)
	}

	// The session moves again, to the leader: the second node drops b.
	d := reattachAny(t, []string{leader.Addr}, wireclient.Options{SessionID: sid, Passwd: pw, LastZxid: b.LastZxid(), SessionTimeout: 10 * time.Second})
	waitRawClosed(t, b)
	rawCreate(t, d, "/eph2", "", proto.ModeEphemeral)

	// Closing the session at last removes its ephemerals everywhere.
	if err := d.Close(clusterCtx(t)); err != nil {
		t.Fatal(err)
	}
	first.Restart()
	c.Leader()
	if err := c.Settle(clusterCtx(t)); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		r := rawSession(t, n.Addr, wireclient.Options{})
		for _, p := range []string{"/eph", "/eph2"} {
			if _, err := rawGet(t, r, p); !errors.Is(err, proto.ErrNoNode) {
				t.Fatalf("%s after closeSession at node %d: %v", p, n.ID, err)
			}
		}
	}
}

// reattachAny dials the first of addrs that takes the session, as a client
// does after a connection loss: a node without a leader, or one behind the
// client's lastZxidSeen, closes the connection and the client tries again.
func reattachAny(t *testing.T, addrs []string, opts wireclient.Options) *wireclient.Conn {
	t.Helper()
	var last error
	deadline := time.Now().Add(clusterWait)
	for time.Now().Before(deadline) {
		for _, a := range addrs {
			c, err := wireclient.Dial(clusterCtx(t), a, opts)
			if err == nil {
				t.Cleanup(c.Drop)
				return c
			}
			if errors.Is(err, wireclient.ErrSessionExpired) {
				t.Fatalf("session %#x expired", opts.SessionID)
			}
			last = err
		}
		time.Sleep(20 * time.Millisecond) // a client's reconnect backoff
	}
	t.Fatalf("no node took session %#x: %v", opts.SessionID, last)
	return nil
}

// TestClusterNewLeaderKeepsSessions: when the leader dies every node drops
// its clients until a new leader is elected; the clients re-attach and keep
// their sessions, however long the election took, because the new leader
// starts every session's timeout afresh.
func TestClusterNewLeaderKeepsSessions(t *testing.T) {
	c := herdtest.StartCluster(t, 3, herdtest.WithTickTime(200*time.Millisecond))
	fs := c.Followers()
	// The minimum timeout (two ticks): expiry is quick if anything is wrong.
	opts := wireclient.Options{SessionTimeout: 400 * time.Millisecond}
	s := rawSession(t, fs[0].Addr, opts)
	rawCreate(t, s, "/live", "", proto.ModeEphemeral)
	opts.SessionID, opts.Passwd = s.SessionID(), s.Passwd()
	c.Leader().Kill()
	c.Leader()
	opts.LastZxid = s.LastZxid()
	s = reattachAny(t, []string{fs[0].Addr, fs[1].Addr}, opts)
	// Its pings reach the new leader through its node; several timeouts
	// later the session and its ephemeral are still there. (A negative check,
	// so it has to take time: 5 session timeouts.)
	for range 5 {
		time.Sleep(400 * time.Millisecond)
	}
	if _, err := rawGet(t, s, "/live"); err != nil {
		t.Fatalf("session lost across the leader change: %v", err)
	}
}

// TestClusterLaggingNodeRefusesClientAhead: a node whose replica is behind
// what a client has already seen refuses the client's connection (it must
// try another server), and takes it once it has caught up.
func TestClusterLaggingNodeRefusesClientAhead(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	fs := c.Followers()
	lag := fs[0]
	lag.StallApply()
	w := rawSession(t, fs[1].Addr, wireclient.Options{})
	rawCreate(t, w, "/ahead", "", proto.ModePersistent)
	seen := w.LastZxid()
	if got := lag.Server().LastZxid(); got >= seen {
		t.Fatalf("the stalled node applied zxid %d ≥ %d", got, seen)
	}
	_, err := wireclient.Dial(clusterCtx(t), lag.Addr, wireclient.Options{LastZxid: seen})
	if err == nil {
		t.Fatal("a node behind the client's lastZxidSeen accepted it")
	}
	lag.ResumeApply()
	waitUntil(t, "the lagging node to catch up", func() bool { return lag.Server().LastZxid() >= seen })
	r := rawSession(t, lag.Addr, wireclient.Options{LastZxid: seen})
	if _, err := rawGet(t, r, "/ahead"); err != nil {
		t.Fatal(err)
	}
}

// TestClusterPartitionedMinorityServesNoWrites: a node cut from its peers
// drops its clients and refuses new ones, never acknowledges a write, and the
// majority goes on. Healed, it catches up.
func TestClusterPartitionedMinorityServesNoWrites(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	leader := c.Leader()
	cl := rawSession(t, leader.Addr, wireclient.Options{})
	// Pipeline writes at the leader as it is cut off: none may be
	// acknowledged after the cut takes effect without being committed.
	leader.CutPeers()
	_, err := cl.Do(clusterCtx(t), proto.OpCreate, &proto.CreateRequest{Path: "/minority", ACL: proto.OpenACLUnsafe}, &proto.CreateResponse{})
	if err == nil {
		// Acknowledged: then it was committed before the cut, and must survive.
		t.Log("the create was committed before the cut took effect")
	}
	waitRawClosed(t, cl)
	if _, err := wireclient.Dial(clusterCtx(t), leader.Addr, wireclient.Options{}); err == nil {
		t.Fatal("a node cut from the majority accepted a client")
	}
	var rest []*herdtest.Node
	for _, n := range c.Nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	waitUntil(t, "a new leader among the majority", func() bool {
		st := rest[0].State()
		return st.Ready && st.Leader != leader.ID
	})
	m := rawSession(t, rest[0].Addr, wireclient.Options{})
	rawCreate(t, m, "/majority", "", proto.ModePersistent)
	acked := err == nil

	leader.HealPeers()
	c.Leader()
	if err := c.Settle(clusterCtx(t)); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		r := rawSession(t, n.Addr, wireclient.Options{})
		if _, err := rawGet(t, r, "/majority"); err != nil {
			t.Fatalf("node %d after healing: %v", n.ID, err)
		}
		_, err := rawGet(t, r, "/minority")
		if acked && err != nil {
			t.Fatalf("the acknowledged create is missing at node %d: %v", n.ID, err)
		}
	}
}

// TestClusterRestartedNodeServesOnlyOnceCaughtUp: a node that restarts
// behind the cluster serves no client (not even one that has seen nothing)
// until it has caught up with its leader, so it neither shows an old tree
// nor calls a live session expired because it has not applied its creation.
func TestClusterRestartedNodeServesOnlyOnceCaughtUp(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	leader := c.Leader()
	late := c.Followers()[0]
	late.Stop()
	s := rawSession(t, leader.Addr, wireclient.Options{SessionTimeout: 10 * time.Second})
	rawCreate(t, s, "/while-down", "", proto.ModePersistent)
	late.StallApply() // it will know the leader but cannot catch up
	late.Restart()
	waitUntil(t, "the restarted node to know its leader", func() bool { return late.State().Leader == leader.ID })
	if late.State().Ready {
		t.Fatal("a node that has not caught up is ready")
	}
	if _, err := wireclient.Dial(clusterCtx(t), late.Addr, wireclient.Options{}); err == nil {
		t.Fatal("a node that has not caught up took a new client")
	}
	_, err := wireclient.Dial(clusterCtx(t), late.Addr, wireclient.Options{SessionID: s.SessionID(), Passwd: s.Passwd()})
	if errors.Is(err, wireclient.ErrSessionExpired) {
		t.Fatal("a node that has not caught up called a live session expired")
	}
	if err == nil {
		t.Fatal("a node that has not caught up took a re-attaching client")
	}
	late.ResumeApply()
	r := reattachAny(t, []string{late.Addr}, wireclient.Options{SessionID: s.SessionID(), Passwd: s.Passwd()})
	if _, err := rawGet(t, r, "/while-down"); err != nil {
		t.Fatal(err)
	}
}

// TestClusterClientsCutFromANodeMoveWithTheirSession: when a node becomes
// unreachable for clients (it stays in the cluster), go-zookeeper moves to
// another node with the same session and its ephemeral node.
func TestClusterClientsCutFromANodeMoveWithTheirSession(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	zc, ev := zkConnect(t, c.Addrs(), 10*time.Second)
	sid := zc.SessionID()
	if _, err := zc.Create("/mine", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	var node *herdtest.Node
	for _, n := range c.Nodes {
		if n.Addr == zc.Server() {
			node = n
		}
	}
	if node == nil {
		t.Fatalf("connected to %s, not a node", zc.Server())
	}
	node.CutClients()
	e := waitSession(t, ev)
	if e.Server == node.Addr || zc.SessionID() != sid {
		t.Fatalf("after the cut: session %#x at %s, want %#x elsewhere", zc.SessionID(), e.Server, sid)
	}
	if ok, st, err := zc.Exists("/mine"); err != nil || !ok || st.EphemeralOwner != sid {
		t.Fatalf("the ephemeral after moving: %v %+v %v", ok, st, err)
	}
	node.HealClients()
	// Healed, the node takes clients again.
	r := rawSession(t, node.Addr, wireclient.Options{})
	if _, err := rawGet(t, r, "/mine"); err != nil {
		t.Fatal(err)
	}
}

// TestClusterCutLeaderVouchesForNoReattach: a leader cut from its peers
// still believes it leads until its lease runs out, and meanwhile a new
// leader may expire a session and delete its ephemerals. So a leader takes a
// re-attaching session only once it has confirmed with a majority that it
// still leads. The session is the leader's own, so its re-attach there
// writes nothing (a session moving in from another node would need a
// committed move, which a cut leader cannot get): only that confirmation
// stands between the cut leader and a wrong yes. The re-attach fails (the
// client tries another server), and the session stays valid at the majority.
func TestClusterCutLeaderVouchesForNoReattach(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	leader := c.Leader()
	fs := c.Followers()
	opts := wireclient.Options{SessionTimeout: 10 * time.Second}
	s := rawSession(t, leader.Addr, opts)
	rawCreate(t, s, "/held", "", proto.ModeEphemeral)
	opts.SessionID, opts.Passwd, opts.LastZxid = s.SessionID(), s.Passwd(), s.LastZxid()
	s.Drop()

	// The cut node keeps its leader role for up to a lease (100 ms), far
	// longer than the re-attach below takes; once it has stepped down it
	// refuses clients anyway.
	leader.CutPeers()
	if b, err := wireclient.Dial(clusterCtx(t), leader.Addr, opts); err == nil {
		b.Drop()
		t.Fatal("a leader cut from every peer took a re-attaching session without confirming it leads")
	} else if errors.Is(err, wireclient.ErrSessionExpired) {
		t.Fatalf("the cut leader called the live session expired: %v", err)
	}

	r := reattachAny(t, []string{fs[0].Addr, fs[1].Addr}, opts)
	var st proto.StatResponse
	if _, err := r.Do(clusterCtx(t), proto.OpExists, &proto.PathWatchRequest{Path: "/held"}, &st); err != nil || st.Stat.EphemeralOwner != opts.SessionID {
		t.Fatalf("the session's ephemeral at the majority: owner %#x, %v", st.Stat.EphemeralOwner, err)
	}
	leader.HealPeers()
}
