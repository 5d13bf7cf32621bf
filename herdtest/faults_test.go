package herdtest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect returns a client of addr whose states the test reads, connected.
func connect(t *testing.T, addr string, opts ...framework.Option) (*framework.Client, <-chan framework.ConnectionState) {
	t.Helper()
	opts = append([]framework.Option{framework.WithSessionTimeout(10 * time.Second),
		framework.WithRetryPolicy(framework.RetryNTimes(50, 20*time.Millisecond))}, opts...)
	c, err := framework.New(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	states := c.StateChanges(testCtx(t))
	expect(t, states, framework.Connected)
	return c, states
}

func expect(t *testing.T, states <-chan framework.ConnectionState, want ...framework.ConnectionState) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-states:
			if got != w {
				t.Fatalf("state %v, want %v (of %v)", got, w, want)
			}
		case <-testCtx(t).Done():
			t.Fatalf("no state %v (of %v)", w, want)
		}
	}
}

func ephemeral(t *testing.T, c *framework.Client, p string) {
	t.Helper()
	if _, err := c.Create(testCtx(t), p, nil, framework.WithMode(framework.ModeEphemeral)); err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, c *framework.Client, p string) bool {
	t.Helper()
	st, err := c.Exists(testCtx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	return st != nil
}

// TestCutConnectionsKeepsTheSession: a cut is a network failure, not an
// expiry: the client reconnects to the same session and keeps its nodes.
func TestCutConnectionsKeepsTheSession(t *testing.T) {
	srv := herdtest.Start(t)
	c, states := connect(t, srv.Addr)
	ephemeral(t, c, "/mine")
	id := c.SessionID()
	if got := srv.Sessions(); !slices.Contains(got, id) {
		t.Fatalf("Sessions() = %x, want it to hold 0x%x", got, id)
	}
	if n := srv.CutConnections(id); n != 1 {
		t.Fatalf("cut %d connections, want 1", n)
	}
	expect(t, states, framework.Suspended, framework.Reconnected)
	if c.SessionID() != id || !exists(t, c, "/mine") {
		t.Fatalf("session 0x%x (was 0x%x); the ephemeral node must survive a cut", c.SessionID(), id)
	}
	if n := srv.CutConnections(12345); n != 0 {
		t.Fatalf("cut %d connections of a session nobody has", n)
	}
	if n := srv.CutAllConnections(); n < 1 {
		t.Fatalf("CutAllConnections cut %d", n)
	}
	expect(t, states, framework.Suspended, framework.Reconnected)
}

// TestExpireSession: the session ends on the server at once (its ephemeral
// node is gone for everyone) and the client goes through LOST to a new one.
func TestExpireSession(t *testing.T) {
	srv := herdtest.Start(t)
	c, states := connect(t, srv.Addr)
	observer, _ := connect(t, srv.Addr)
	ephemeral(t, c, "/mine")
	id := c.SessionID()
	srv.ExpireSession(id)
	if exists(t, observer, "/mine") {
		t.Fatal("the expired session's ephemeral node is still there")
	}
	expect(t, states, framework.Suspended, framework.Lost, framework.Reconnected)
	if c.SessionID() == id || c.SessionID() == 0 {
		t.Fatalf("session 0x%x after expiring 0x%x", c.SessionID(), id)
	}
	// The new session is as good as any.
	ephemeral(t, c, "/mine")
}

// TestRestartKeepsSessions: a restart is a server going away and coming
// back; sessions are kept in the data directory.
func TestRestartKeepsSessions(t *testing.T) {
	srv := herdtest.Start(t)
	c, states := connect(t, srv.Addr)
	ephemeral(t, c, "/mine")
	id := c.SessionID()
	srv.Restart()
	expect(t, states, framework.Suspended, framework.Reconnected)
	if c.SessionID() != id || !exists(t, c, "/mine") {
		t.Fatalf("session 0x%x (was 0x%x) after a restart", c.SessionID(), id)
	}
	// The hooks still know the session after the restart.
	srv.ExpireSession(id)
	expect(t, states, framework.Suspended, framework.Lost, framework.Reconnected)
}

// TestProxyFaults: a refused reconnect keeps the client SUSPENDED; a
// partition longer than the session timeout ends in LOST.
func TestProxyFaults(t *testing.T) {
	srv := herdtest.Start(t, herdtest.WithTickTime(100*time.Millisecond)) // sessions of 0.2 s to 2 s
	px := srv.NewProxy()
	c, states := connect(t, px.Addr, framework.WithSessionTimeout(2*time.Second))
	id := c.SessionID()
	if px.Conns() != 1 {
		t.Fatalf("proxy forwards %d connections, want 1", px.Conns())
	}

	px.Refuse(true)
	px.Cut()
	expect(t, states, framework.Suspended)
	px.Refuse(false)
	expect(t, states, framework.Reconnected)
	if c.SessionID() != id {
		t.Fatalf("session 0x%x after a short outage, want 0x%x", c.SessionID(), id)
	}

	px.Blackhole(true)
	expect(t, states, framework.Suspended, framework.Lost)
	px.Blackhole(false)
	px.Cut() // connections held open through the partition are dead to the client
	expect(t, states, framework.Reconnected)
	if c.SessionID() == id {
		t.Fatal("the same session after a partition longer than its timeout")
	}
}
