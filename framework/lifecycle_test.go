package framework_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
)

func TestBlockUntilConnectedTimesOut(t *testing.T) {
	// A port nobody listens on: the client keeps trying, the caller gives up.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := framework.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.BlockUntilConnected(ctx); !errors.Is(err, framework.ErrNotConnected) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntilConnected = %v", err)
	}
	if c.State() != 0 || c.State().String() != "LATENT" {
		t.Fatalf("state %v before any session", c.State())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.BlockUntilConnected(context.Background()); !errors.Is(err, framework.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func testLifecycle(t *testing.T, srv target) {
	ctx := testCtx(t)
	px := newProxy(t, srv.Addr())
	c := newClient(t, px.Addr(), framework.WithSessionTimeout(time.Minute))
	// The server clamps the timeout; LOST is timed from what it granted.
	if got := c.SessionTimeout(); got != srv.MaxSessionTimeout() {
		t.Fatalf("negotiated session timeout %v, want the server's maximum %v", got, srv.MaxSessionTimeout())
	}

	// Listeners get states in order, a blocked listener delays nobody else,
	// and a removed listener gets nothing more.
	var order []framework.ConnectionState
	got := make(chan struct{}, 10)
	removeA := c.AddListener(func(s framework.ConnectionState) { order = append(order, s); got <- struct{}{} })
	block := make(chan struct{})
	removeB := c.AddListener(func(framework.ConnectionState) { <-block })
	removed := make(chan framework.ConnectionState, 10)
	removeC := c.AddListener(func(s framework.ConnectionState) { removed <- s })
	removeC()
	chCtx, stopCh := context.WithCancel(ctx)
	states := c.StateChanges(chCtx)

	px.Refuse(true)
	px.Cut()
	expectStates(t, states, framework.Suspended)
	px.Refuse(false)
	expectStates(t, states, framework.Reconnected)
	<-got
	<-got
	if len(order) != 2 || order[0] != framework.Suspended || order[1] != framework.Reconnected {
		t.Fatalf("listener saw %v", order)
	}
	select {
	case s := <-removed:
		t.Fatalf("removed listener got %v", s)
	default:
	}
	close(block)
	removeA()
	removeB()
	stopCh()
	for range states { // closed once its context ends
	}

	// After Close every operation fails with ErrClosed; Close is idempotent.
	select {
	case <-c.Done():
		t.Fatal("Done closed before Close")
	default:
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, "/"); !errors.Is(err, framework.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := c.DataWatch(ctx, "/", nil); !errors.Is(err, framework.ErrClosed) {
		t.Fatalf("DataWatch after Close: %v", err)
	}
	if c.SessionID() != 0 {
		t.Fatal("session id after Close")
	}
}

// TestCloseDuringSilentHandshake: a server that accepts but never answers the
// handshake must not hold up Close (go-zookeeper alone would wait ten receive
// timeouts, 400 s with the default session timeout).
func TestCloseDuringSilentHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	c, err := framework.New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	first := <-accepted
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	ln.Close()
	first.Close()
	for c := range accepted {
		c.Close()
	}
}
