package framework_test

import (
	"context"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
)

func testStatesSessionExpired(t *testing.T, srv target) {
	ctx := testCtx(t)
	c := newClient(t, srv.Addr())
	listened := make(chan framework.ConnectionState, 10)
	remove := c.AddListener(func(s framework.ConnectionState) { listened <- s })
	defer remove()
	states := c.StateChanges(ctx)
	ensure(t, c, "/t/expire")
	if _, err := c.Create(ctx, "/t/expire/eph", nil, framework.WithMode(framework.ModeEphemeral)); err != nil {
		t.Fatal(err)
	}
	old := c.SessionID()
	expireSession(t, srv.Addr(), c)
	expectStates(t, states, framework.Suspended, framework.Lost, framework.Reconnected)
	expectStates(t, listened, framework.Suspended, framework.Lost, framework.Reconnected)
	if c.SessionID() == old || c.SessionID() == 0 {
		t.Fatalf("session %#x after expiry of %#x", c.SessionID(), old)
	}
	if st, err := c.Exists(ctx, "/t/expire/eph"); err != nil || st != nil {
		t.Fatalf("ephemeral of the expired session: %v, %v", st, err)
	}
}

// testStatesLostWhileSuspended: a partition longer than the session timeout
// gives SUSPENDED then LOST decided by the client, then a new session.
func testStatesLostWhileSuspended(t *testing.T, srv target) {
	ctx := testCtx(t)
	px := newProxy(t, srv.Addr())
	c := newClient(t, px.Addr(), framework.WithSessionTimeout(1500*time.Millisecond))
	states := c.StateChanges(ctx)
	old := c.SessionID()
	start := time.Now()
	px.Blackhole(true)
	expectStates(t, states, framework.Suspended)
	suspended := time.Now()
	expectStates(t, states, framework.Lost)
	if d := time.Since(suspended); d < 1400*time.Millisecond {
		t.Fatalf("LOST %v after SUSPENDED, before the session timeout", d)
	}
	if c.State() != framework.Lost {
		t.Fatalf("state %v", c.State())
	}
	px.Blackhole(false)
	expectStates(t, states, framework.Reconnected)
	if c.SessionID() == old {
		t.Fatal("LOST must be followed by a new session")
	}
	if _, err := c.Exists(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	t.Logf("partition to LOST took %v", time.Since(start))
}

func testStatesServerRestart(t *testing.T, srv target) {
	// Not testCtx's 30 s: the state channel closes when ctx ends, and a real
	// ZooKeeper's restart alone may take up to 60 s (zkpeer.RestartT) on a
	// loaded machine; in one CI run ctx ended 33 s in, before RECONNECTED.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c := newClient(t, srv.Addr(), framework.WithSessionTimeout(srv.MaxSessionTimeout()))
	states := c.StateChanges(ctx)
	if got := c.State(); got != framework.Connected {
		t.Fatalf("state %v, want CONNECTED", got)
	}
	ensure(t, c, "/t/restart")
	if _, err := c.Create(ctx, "/t/restart/eph", nil, framework.WithMode(framework.ModeEphemeral)); err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	srv.Stop(t)
	expectStates(t, states, framework.Suspended)
	srv.Start(t)
	expectStates(t, states, framework.Reconnected)
	if c.SessionID() != sid {
		t.Fatalf("session changed across a restart: %#x -> %#x", sid, c.SessionID())
	}
	if st, err := c.Exists(ctx, "/t/restart/eph"); err != nil || st == nil {
		t.Fatalf("ephemeral after restart: %v, %v", st, err)
	}
}
