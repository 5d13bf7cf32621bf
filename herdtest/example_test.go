package herdtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
)

// Example is the shape of a test of your own code: start a server, point the
// code at it, break something, and check that the code copes. Here the
// "code" is a service that registers itself with an ephemeral node and must
// register again after its session expires. (The example is compiled, not
// run: herdtest needs the *testing.T that go test gives a test function.
// TestExpireSession runs the same steps.)
func Example() {
	var t *testing.T // in your test: func TestRegistration(t *testing.T) { ... }

	srv := herdtest.Start(t) // stopped, and its data removed, when the test ends
	c, err := framework.New(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	states := c.StateChanges(ctx)
	register := func() {
		if _, err := c.Create(ctx, "/services/me", nil,
			framework.WithMode(framework.ModeEphemeral), framework.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
	register()

	srv.ExpireSession(c.SessionID()) // the server drops the session: /services/me is gone
	for s := range states {
		if s == framework.Reconnected {
			break // a new session; the code under test would register again here
		}
	}
	register()

	// Other faults: srv.CutConnections(id) drops the session's connections
	// (it survives), srv.Restart() restarts the server on the same address,
	// and srv.NewProxy() gives an address whose traffic can be cut, refused
	// or blackholed.
}

// ExampleStartCluster tests code against a three-node cluster: the client
// is given every node, and keeps its session while the leader dies and
// while its own node is cut from it. (Compiled, not run, as Example is;
// TestClusterSessionHooks runs the same hooks.)
func ExampleStartCluster() {
	var t *testing.T // in your test: func TestFailover(t *testing.T) { ... }

	c := herdtest.StartCluster(t, 3) // every node stopped, and its data removed, when the test ends
	client, err := framework.New(c.ConnectString())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.Create(ctx, "/jobs", nil); err != nil {
		t.Fatal(err)
	}

	c.Leader().Kill()                    // a crash: the others elect a new leader
	c.Leader()                           // waits for it
	c.CutConnections(client.SessionID()) // the client's connection drops; it reconnects, same session
	if _, err := client.Create(ctx, "/jobs/1", nil); err != nil {
		t.Fatal(err) // the code under test carries on across both
	}

	// Other faults: node.CutPeers() partitions a node from the others,
	// node.CutClients() sends its clients elsewhere, node.StallApply() makes
	// it fall behind, c.ExpireSession(id) ends a session, node.Restart()
	// brings a killed node back; node.Heal() lifts its cuts and stalls.
}
