package framework_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
)

// testRetryDroppedConnections: operations ride out a server that drops and
// refuses connections, and give up with a retryable error once the policy is
// exhausted.
func testRetryDroppedConnections(t *testing.T, srv target) {
	ctx := testCtx(t)
	px := newProxy(t, srv.Addr())
	c := newClient(t, px.Addr())
	states := c.StateChanges(ctx)
	ensure(t, c, "/t/retry")

	px.Refuse(true)
	px.Cut()
	expectStates(t, states, framework.Suspended)
	done := make(chan error, 1)
	go func() {
		_, err := c.Create(ctx, "/t/retry/n", []byte("x"))
		done <- err
	}()
	// Let the client fail a few connection attempts before healing.
	n := px.Accepted()
	eventually(t, "reconnect attempts", func() bool { return px.Accepted() >= n+2 })
	px.Refuse(false)
	if err := <-done; err != nil {
		t.Fatalf("create across dropped connections: %v", err)
	}
	expectStates(t, states, framework.Reconnected)

	// With a budget of one quick retry the operation gives up while refused.
	short := newClient(t, px.Addr(), framework.WithRetryPolicy(framework.RetryOneTime(10*time.Millisecond)),
		framework.WithConnectionTimeout(100*time.Millisecond))
	px.Refuse(true)
	px.Cut()
	_, _, err := short.Get(ctx, "/t/retry/n")
	if err == nil || !framework.IsRetryable(err) {
		t.Fatalf("get while refused: %v, want a retryable connection error", err)
	}
	if !errors.Is(err, zk.ErrNoServer) && !errors.Is(err, zk.ErrConnectionClosed) {
		t.Fatalf("get while refused: %v", err)
	}
	// Non-retryable answers are returned at once.
	px.Refuse(false)
	if _, _, err := short.Get(ctx, "/t/retry/missing"); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("get missing: %v", err)
	}
}

// holdAndCut makes a create reach the server while its reply is lost: replies
// are held until the node shows up (seen by observer), then the connection is
// cut and the client reconnects.
func holdAndCut(t *testing.T, srv target, parent string, create func(c *framework.Client) (string, error)) (string, *framework.Client, error) {
	t.Helper()
	ctx := testCtx(t)
	observer := newClient(t, srv.Addr())
	ensure(t, observer, parent)
	px := newProxy(t, srv.Addr())
	c := newClient(t, px.Addr())
	px.HoldReplies(true)
	type result struct {
		p   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := create(c)
		done <- result{p, err}
	}()
	eventually(t, "node created on the server", func() bool {
		kids, _, err := observer.Children(ctx, parent)
		return err == nil && len(kids) > 0
	})
	px.Cut()
	px.HoldReplies(false)
	r := <-done
	return r.p, observer, r.err
}

func testProtectedCreateRecovers(t *testing.T, srv target) {
	ctx := testCtx(t)
	parent := "/t/protected"
	var session int64
	p, observer, err := holdAndCut(t, srv, parent, func(c *framework.Client) (string, error) {
		session = c.SessionID()
		return c.Create(ctx, parent+"/lock-", []byte("me"),
			framework.WithMode(framework.ModeEphemeralSequential), framework.WithProtection())
	})
	if err != nil {
		t.Fatalf("protected create across a cut connection: %v", err)
	}
	kids, _, err := observer.Children(ctx, parent)
	if err != nil || len(kids) != 1 || parent+"/"+kids[0] != p {
		t.Fatalf("children %v, created %q, %v: want exactly the created node", kids, p, err)
	}
	if !framework.IsProtectedName(kids[0]) {
		t.Fatalf("%q is not protected", kids[0])
	}
	st, err := observer.Exists(ctx, p)
	if err != nil || st == nil || st.EphemeralOwner != session {
		t.Fatalf("node owner %+v, %v; want session %#x", st, err, session)
	}
}

func testSequentialCreateNotRepeated(t *testing.T, srv target) {
	ctx := testCtx(t)
	parent := "/t/unprotected"
	_, observer, err := holdAndCut(t, srv, parent, func(c *framework.Client) (string, error) {
		return c.Create(ctx, parent+"/item-", nil, framework.WithMode(framework.ModePersistentSequential))
	})
	if !errors.Is(err, framework.ErrMaybeApplied) || !errors.Is(err, zk.ErrConnectionClosed) {
		t.Fatalf("unprotected sequential create across a cut: %v, want ErrMaybeApplied", err)
	}
	if framework.IsRetryable(err) {
		t.Fatal("ErrMaybeApplied must not be retryable")
	}
	kids, _, err := observer.Children(ctx, parent)
	if err != nil || len(kids) != 1 {
		t.Fatalf("children %v, %v: the create must not be repeated", kids, err)
	}
}

func testGuaranteedDelete(t *testing.T, srv target) {
	ctx := testCtx(t)
	observer := newClient(t, srv.Addr())
	ensure(t, observer, "/t/gdel/n")
	px := newProxy(t, srv.Addr())
	c := newClient(t, px.Addr(), framework.WithRetryPolicy(framework.NoRetry()),
		framework.WithConnectionTimeout(100*time.Millisecond))
	px.Refuse(true)
	px.Cut()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err := c.Delete(short, "/t/gdel/n", framework.Guaranteed())
	if err == nil {
		t.Fatal("delete while refused succeeded")
	}
	if st, _ := observer.Exists(ctx, "/t/gdel/n"); st == nil {
		t.Fatal("node deleted while the client was cut off")
	}
	px.Refuse(false)
	eventually(t, "background delete", func() bool {
		st, err := observer.Exists(ctx, "/t/gdel/n")
		return err == nil && st == nil
	})
	if strings.Contains(err.Error(), "panic") {
		t.Fatal(err)
	}
}
