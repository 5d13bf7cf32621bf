package herdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
)

// TestTiming is the Raft timing of clusters started here: elections in a
// few hundred milliseconds, yet tolerant of a busy machine.
var TestTiming = cluster.Timing{
	HeartbeatTimeout:   150 * time.Millisecond,
	ElectionTimeout:    150 * time.Millisecond,
	LeaderLeaseTimeout: 100 * time.Millisecond,
}

// waitLimit bounds every wait on a cluster (a leader, a restart).
const waitLimit = 30 * time.Second

// Cluster is a running in-process herd cluster: every node on 127.0.0.1
// with its own data directory, all stopped when the test ends. Its nodes can
// be stopped, killed, restarted, cut from their peers or from their clients,
// and healed, to test what clients see when that happens.
//
//	c := herdtest.StartCluster(t, 3)
//	client, err := framework.New(c.ConnectString())
//	...
//	c.Leader().Kill()
type Cluster struct {
	// Nodes are the members; Nodes[i] has server id i+1.
	Nodes []*Node

	t testing.TB
}

// Node is one member of a Cluster.
type Node struct {
	// ID is the node's server id (myid).
	ID int
	// Addr is host:port of its client listener; it stays the same across
	// Restart.
	Addr string
	// Config is the configuration the node runs with.
	Config server.Config

	c        *Cluster
	peerAddr string
	elecAddr string
	faults   *cluster.Faults

	// clients are the client connections, across restarts (faults.go).
	clients *conns

	mu     sync.Mutex
	srv    *server.Server
	served chan error
}

// StartCluster starts a cluster of n voters and waits until it has a leader
// every node follows. opts apply to every node.
func StartCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	return StartClusterWithObservers(t, n, 0, opts...)
}

// StartClusterWithObservers starts voters participants and then observers
// observers (ZooKeeper's :observer members: they serve reads and forward
// writes, and do not vote).
func StartClusterWithObservers(t testing.TB, voters, observers int, opts ...Option) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	n := voters + observers
	type listeners struct{ client, peer, elec net.Listener }
	ls := make([]listeners, n)
	var members []cluster.Member
	for i := range ls {
		ls[i] = listeners{listen(t), listen(t), listen(t)}
		role := "participant"
		if i >= voters {
			role = "observer"
		}
		m, err := cluster.ParseMember(i+1, fmt.Sprintf("127.0.0.1:%d:%d:%s;%s", port(ls[i].peer), port(ls[i].elec), role,
			ls[i].client.Addr().String()))
		if err != nil {
			t.Fatalf("herdtest: %v", err)
		}
		members = append(members, m)
	}
	for i := range ls {
		cfg := server.Config{
			DataDir:         t.TempDir(),
			Logger:          zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named("n" + strconv.Itoa(i+1)),
			FourLetterWords: []string{"*"},
			ServerID:        i + 1,
			Servers:         members,
			Raft:            TestTiming,
			ReconfigEnabled: true,
		}
		for _, o := range opts {
			o(&cfg)
		}
		nd := &Node{ID: i + 1, Addr: ls[i].client.Addr().String(), Config: cfg, c: c,
			peerAddr: ls[i].peer.Addr().String(), elecAddr: ls[i].elec.Addr().String(), faults: &cluster.Faults{}, clients: newConns()}
		c.Nodes = append(c.Nodes, nd)
	}
	t.Cleanup(c.stopAll)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, nd := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = nd.start(ls[i].client, ls[i].peer, ls[i].elec)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("herdtest: start cluster: %v", err)
	}
	c.Leader()
	c.waitFor("every node to take its role", func() bool {
		for i, n := range c.Nodes {
			if (n.State().Role == cluster.RoleObserver) != (i >= voters) {
				return false
			}
		}
		return true
	})
	return c
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("herdtest: listen: %v", err)
	}
	return l
}

func port(l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }

// AddNode starts a new node that is not a member yet: its server list is the
// cluster's current membership plus itself, as ZooKeeper's dynamic
// reconfiguration expects of a joining server. It waits until reconfig (or
// herd cluster add) adds it. opts apply on top of the cluster's options.
func (c *Cluster) AddNode(observer bool, opts ...Option) *Node {
	c.t.Helper()
	leader := c.Leader()
	members, _, err := leader.Server().Cluster().Members()
	if err != nil {
		c.t.Fatalf("herdtest: members: %v", err)
	}
	id := 0
	for _, n := range c.Nodes {
		id = max(id, n.ID)
	}
	id++
	client, peer, elec := listen(c.t), listen(c.t), listen(c.t)
	role := "participant"
	if observer {
		role = "observer"
	}
	m, err := cluster.ParseMember(id, fmt.Sprintf("127.0.0.1:%d:%d:%s;%s", port(peer), port(elec), role, client.Addr().String()))
	if err != nil {
		c.t.Fatalf("herdtest: %v", err)
	}
	cfg := leader.Config
	cfg.DataDir = c.t.TempDir()
	cfg.DataLogDir = ""
	cfg.ServerID = id
	cfg.Servers = append(append([]cluster.Member(nil), members...), m)
	cfg.Logger = zaptest.NewLogger(c.t, zaptest.Level(zap.WarnLevel)).Named("n" + strconv.Itoa(id))
	for _, o := range opts {
		o(&cfg)
	}
	n := &Node{ID: id, Addr: client.Addr().String(), Config: cfg, c: c,
		peerAddr: peer.Addr().String(), elecAddr: elec.Addr().String(), faults: &cluster.Faults{}, clients: newConns()}
	if err := n.start(client, peer, elec); err != nil {
		c.t.Fatalf("herdtest: add node: %v", err)
	}
	c.Nodes = append(c.Nodes, n)
	return n
}

// Addrs returns every node's client address, in id order.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// ConnectString is the client connect string of all nodes, "a,b,c".
func (c *Cluster) ConnectString() string { return strings.Join(c.Addrs(), ",") }

// Leader waits until every running node serves and follows one leader, and
// returns that leader.
func (c *Cluster) Leader() *Node {
	c.t.Helper()
	var leader *Node
	c.waitFor("a leader every running node follows", func() bool {
		leader = nil
		id := 0
		for _, n := range c.Nodes {
			if !n.Running() {
				continue
			}
			st := n.State()
			if !st.Ready || (id != 0 && st.Leader != id) {
				return false
			}
			id = st.Leader
			if st.Role == cluster.RoleLeader {
				leader = n
			}
		}
		return leader != nil
	})
	return leader
}

// Followers returns the running nodes that follow the current leader
// (observers included), after Leader.
func (c *Cluster) Followers() []*Node {
	c.t.Helper()
	leader := c.Leader()
	var out []*Node
	for _, n := range c.Nodes {
		if n != leader && n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// Settle waits until every running node has applied everything the leader
// had committed when Settle was called, so that a read at any node sees
// every write acknowledged before. A node that finds no leader (an election
// under way on a loaded machine) is asked again once its state changes,
// until ctx ends.
func (c *Cluster) Settle(ctx context.Context) error {
	for _, n := range c.Nodes {
		if srv := n.Server(); srv != nil {
			if err := settleNode(ctx, srv.Cluster()); err != nil {
				return fmt.Errorf("herdtest: settle node %d: %w", n.ID, err)
			}
		}
	}
	return nil
}

// settleRetry bounds the wait between two Syncs of a node whose state does
// not change, e.g. a leader that could not yet confirm a quorum.
const settleRetry = 20 * time.Millisecond

// settleNode runs Sync on node until it succeeds. Sync only reads, so it
// may be repeated; only a closed node or ctx ends the retries.
func settleNode(ctx context.Context, node *cluster.Node) error {
	for {
		changed := node.Changed()
		err := node.Sync(ctx)
		if err == nil || errors.Is(err, cluster.ErrClosed) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(settleRetry)
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		}
		t.Stop()
	}
}

func (c *Cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("herdtest: timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *Cluster) stopAll() {
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Kill()
		}()
	}
	wg.Wait()
}

// Member is the node's server.N line.
func (n *Node) Member() cluster.Member {
	for _, m := range n.Config.Servers {
		if m.ID == n.ID {
			return m
		}
	}
	return cluster.Member{}
}

func (n *Node) start(client, peer, elec net.Listener) error {
	cfg := n.Config
	cfg.PeerListener, cfg.ElectionListener, cfg.PeerFaults = peer, elec, n.faults
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		client.Close()
		return fmt.Errorf("node %d: %w", n.ID, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(n.clients.wrap(client)) }()
	n.mu.Lock()
	n.srv, n.served = srv, served
	n.mu.Unlock()
	return nil
}

// Server returns the running node (nil while stopped).
func (n *Node) Server() *server.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// Running reports whether the node is started.
func (n *Node) Running() bool { return n.Server() != nil }

// State returns the node's view of leadership (zero while stopped).
func (n *Node) State() cluster.State {
	if srv := n.Server(); srv != nil {
		return srv.Cluster().State()
	}
	return cluster.State{}
}

// IsLeader reports whether the node leads now.
func (n *Node) IsLeader() bool { return n.State().Role == cluster.RoleLeader }

// Stop shuts the node down gracefully: a leader hands leadership over first.
// Its data stays for Restart. Stopping a stopped node does nothing.
func (n *Node) Stop() { n.halt(false) }

// Kill stops the node abruptly, as a crash would: no hand-over, connections
// dropped. Its data stays for Restart.
func (n *Node) Kill() { n.halt(true) }

func (n *Node) halt(kill bool) {
	n.mu.Lock()
	srv, served := n.srv, n.served
	n.srv = nil
	n.mu.Unlock()
	if srv == nil {
		return
	}
	var err error
	if kill {
		err = srv.Close()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
	}
	if err != nil {
		n.c.t.Errorf("herdtest: stop node %d: %v", n.ID, err)
	}
	if err := <-served; err != nil && !errors.Is(err, server.ErrServerClosed) {
		n.c.t.Errorf("herdtest: node %d serve: %v", n.ID, err)
	}
}

// Restart starts a stopped (or killed) node again on the same ports and data
// directory; a running node is stopped first. It does not wait for the node
// to catch up: use Cluster.Leader or Settle.
func (n *Node) Restart() {
	n.c.t.Helper()
	n.Stop()
	client, peer, elec := relisten(n.c.t, n.Addr), relisten(n.c.t, n.peerAddr), relisten(n.c.t, n.elecAddr)
	if err := n.start(client, peer, elec); err != nil {
		peer.Close()
		elec.Close()
		n.c.t.Fatalf("herdtest: restart: %v", err)
	}
}

func relisten(t testing.TB, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("herdtest: relisten on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // the old socket is still closing
	}
}

// CutPeers separates the node from every other member (Raft and forwarding
// alike) until HealPeers; its clients can still reach it.
func (n *Node) CutPeers() { n.faults.Cut() }

// CutFrom separates the node from the given members only.
func (n *Node) CutFrom(ids ...int) { n.faults.CutFrom(ids...) }

// HealPeers lifts CutPeers and CutFrom.
func (n *Node) HealPeers() { n.faults.Heal() }

// CutClients drops every client connection of the node and refuses new ones
// until HealClients (across Restart too); the node stays in the cluster.
func (n *Node) CutClients() { n.clients.refuse(true) }

// HealClients lets clients connect again.
func (n *Node) HealClients() { n.clients.refuse(false) }

// Sessions returns the ids of the sessions that have a client connected to
// this node now, in ascending order.
func (n *Node) Sessions() []int64 { return n.clients.sessions(nil) }

// CutConnections closes this node's end of every connection of the session
// with this id, as Server.CutConnections does; the client reconnects to
// some node, and the session survives. It returns how many it closed.
func (n *Node) CutConnections(sessionID int64) int { return n.clients.cutSession(sessionID) }

// Sessions returns the ids of the sessions that have a client connected to
// some node now, in ascending order.
func (c *Cluster) Sessions() []int64 {
	var ids []int64
	for _, n := range c.Nodes {
		ids = n.clients.sessions(ids)
	}
	return ids
}

// CutConnections closes every connection of the session with this id, at
// whichever node it is, as a network failure would; the client reconnects
// (to any node) to the same session. It returns how many it closed.
func (c *Cluster) CutConnections(sessionID int64) int {
	cut := 0
	for _, n := range c.Nodes {
		cut += n.CutConnections(sessionID)
	}
	return cut
}

// ExpireSession ends the session with this id now, as the cluster does when
// its timeout passes: its ephemeral nodes are deleted, its watches fire, and
// the client learns on reconnecting that it expired (LOST in the
// framework). As Server.ExpireSession, it closes the session in the log
// (through the leader, or any running node while there is none) before any
// connection is closed, so the client cannot re-attach it in between. The
// session must have reached the cluster since StartCluster. Call it from
// the test's goroutine: a failure stops the test.
func (c *Cluster) ExpireSession(sessionID int64) {
	c.t.Helper()
	if err := c.expire(sessionID); err != nil {
		c.t.Fatalf("herdtest: expire session 0x%x: %v", sessionID, err)
	}
}

func (c *Cluster) expire(id int64) error {
	if !slices.ContainsFunc(c.Nodes, func(n *Node) bool { return n.clients.known(id) }) {
		return errors.New("no client of this cluster has had that session")
	}
	// The leader if there is one (a cut follower could not reach it),
	// else any running node, which waits for one.
	var at *server.Server
	for _, n := range c.Nodes {
		if srv := n.Server(); srv != nil && (at == nil || n.IsLeader()) {
			at = srv
		}
	}
	if at == nil {
		return errors.New("no node is running")
	}
	return expireAt(at, id)
}

// StallApply stops the node applying the log (it keeps following the
// leader), so it falls behind as a node with a stalled disk does, until
// ResumeApply.
func (n *Node) StallApply() { n.faults.StallApply() }

// ResumeApply lets a stalled node catch up.
func (n *Node) ResumeApply() { n.faults.ResumeApply() }

// Heal lifts every cut and stall of the node.
func (n *Node) Heal() {
	n.HealPeers()
	n.HealClients()
	n.ResumeApply()
}
