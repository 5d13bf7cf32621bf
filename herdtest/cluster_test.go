package herdtest_test

import (
	"slices"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
)

// TestClusterSessionHooks: a cluster has the session fault hooks a single
// server has. A cut (at whichever node the session is) keeps the session; a
// node cut from its clients sends them to another node; an expiry ends the
// session everywhere and the client gets a new one.
func TestClusterSessionHooks(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	client, states := connect(t, c.ConnectString())
	observer, _ := connect(t, c.ConnectString())
	ephemeral(t, client, "/mine")
	id := client.SessionID()
	if got := c.Sessions(); !slices.Contains(got, id) || !slices.Contains(got, observer.SessionID()) {
		t.Fatalf("Sessions() = %x, want 0x%x and 0x%x", got, id, observer.SessionID())
	}
	holder(t, c, id) // exactly one node has it

	if n := c.CutConnections(id); n != 1 {
		t.Fatalf("cut %d connections, want 1", n)
	}
	expect(t, states, framework.Suspended, framework.Reconnected)
	if client.SessionID() != id || !exists(t, client, "/mine") {
		t.Fatalf("session 0x%x (was 0x%x); the ephemeral node must survive a cut", client.SessionID(), id)
	}

	at := holder(t, c, id)
	at.CutClients()
	expect(t, states, framework.Suspended, framework.Reconnected)
	if now := holder(t, c, id); now == at || client.SessionID() != id {
		t.Fatalf("after CutClients the session 0x%x is at node %d (was %d), want another node", client.SessionID(), now.ID, at.ID)
	}
	if n := at.CutConnections(id); n != 0 {
		t.Fatalf("the cut node still had %d connections of the session", n)
	}
	at.HealClients()

	c.ExpireSession(id)
	expect(t, states, framework.Suspended, framework.Lost, framework.Reconnected)
	if client.SessionID() == id || client.SessionID() == 0 {
		t.Fatalf("session 0x%x after expiring 0x%x", client.SessionID(), id)
	}
	if err := c.Settle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if exists(t, observer, "/mine") {
		t.Fatal("the expired session's ephemeral node is still there")
	}
}

// holder is the one node the session is connected to.
func holder(t *testing.T, c *herdtest.Cluster, id int64) *herdtest.Node {
	t.Helper()
	var at []*herdtest.Node
	for _, n := range c.Nodes {
		if slices.Contains(n.Sessions(), id) {
			at = append(at, n)
		}
	}
	if len(at) != 1 {
		t.Fatalf("session 0x%x is connected to %d nodes, want 1", id, len(at))
	}
	return at[0]
}
