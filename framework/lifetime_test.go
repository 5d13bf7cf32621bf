package framework_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
)

// closeReturns runs Close and fails the test if it has not returned by the
// test's deadline (it would hang for ever on a callback that never returns).
func closeReturns(t *testing.T, c *framework.Client) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-testCtx(t).Done():
		t.Fatal("Close blocked on a callback")
	}
}

// TestCloseDoesNotWaitForABlockedListener: a listener that blocks holds up
// neither the connection nor Close.
func TestCloseDoesNotWaitForABlockedListener(t *testing.T) {
	srv := herdtest.Start(t)
	px := newProxy(t, srv.Addr)
	c := newClient(t, px.Addr())
	release := make(chan struct{})
	defer close(release)
	entered := make(chan framework.ConnectionState, 10)
	c.AddListener(func(s framework.ConnectionState) {
		entered <- s
		<-release
	})
	states := c.StateChanges(testCtx(t))
	px.Cut() // a state for the listener to block in
	if s := <-entered; s != framework.Suspended {
		t.Fatalf("listener got %v, want SUSPENDED", s)
	}
	// The connection comes back while the listener is still blocked.
	expectStates(t, states, framework.Suspended, framework.Reconnected)
	closeReturns(t, c)
}

// TestCloseDoesNotWaitForABlockedWatchCallback: the same for a watch's
// callback; the watch then ends with ErrClosed.
func TestCloseDoesNotWaitForABlockedWatchCallback(t *testing.T) {
	srv := herdtest.Start(t)
	ctx := testCtx(t)
	c := newClient(t, srv.Addr)
	writer := newClient(t, srv.Addr)
	release := make(chan struct{})
	calls := make(chan []byte, 10)
	w, err := c.DataWatch(ctx, "/blocked", func(data []byte, _ *zk.Stat) bool {
		calls <- data
		if data != nil {
			<-release // the second call blocks
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	<-calls
	if _, err := writer.Create(ctx, "/blocked", []byte("x")); err != nil {
		t.Fatal(err)
	}
	<-calls
	closeReturns(t, c)
	close(release)
	if err := w.Err(); !errors.Is(err, framework.ErrClosed) {
		t.Fatalf("watch ended with %v, want ErrClosed", err)
	}
}

// TestWatchOutlivesItsSetupContext: the context given to DataWatch bounds the
// first read only. The watch keeps going after it ends, reports through its
// callback, Current and Events, and ends on Stop.
func TestWatchOutlivesItsSetupContext(t *testing.T) {
	srv := herdtest.Start(t)
	ctx := testCtx(t)
	c := newClient(t, srv.Addr)
	setup, cancel := context.WithTimeout(ctx, 10*time.Second)
	seen := make(chan string, 10)
	w, err := c.DataWatch(setup, "/cfg", func(data []byte, _ *zk.Stat) bool {
		seen <- string(data)
		return true
	})
	cancel() // a setup timeout that ran out, or a request's context that ended
	if err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "" || w.Current().Exists() {
		t.Fatalf("first value %q, current %+v; want a missing node", got, w.Current())
	}
	if v := <-w.Events(); v.Exists() {
		t.Fatalf("first event %+v", v)
	}
	if _, err := c.Create(ctx, "/cfg", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "v1" {
		t.Fatalf("after create: %q", got)
	}
	if v := <-w.Events(); string(v.Data) != "v1" || v.Stat.Version != 0 {
		t.Fatalf("event %+v", v)
	}
	if cur := w.Current(); string(cur.Data) != "v1" {
		t.Fatalf("current %+v", cur)
	}
	w.Stop()
	<-w.Done()
	if err := w.Err(); err != nil {
		t.Fatalf("stopped watch: %v", err)
	}
	if _, ok := <-w.Events(); ok {
		t.Fatal("Events not closed after Stop")
	}
	if _, err := c.Set(ctx, "/cfg", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx, "/cfg"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-seen:
		t.Fatalf("callback after Stop: %q", got)
	default:
	}

	// A setup context that ends before the first read fails DataWatch, and
	// the watch does not start.
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := c.DataWatch(gone, "/cfg", nil); !errors.Is(err, context.Canceled) ||
		err.Error() != "framework: data watch /cfg: context canceled" {
		t.Fatalf("DataWatch with an ended context: %v", err)
	}
}

// TestWatchEventsKeepOnlyTheLatest: a reader that does not keep up finds the
// newest value in Events, never a stale one, and the watch is not held up.
func TestWatchEventsKeepOnlyTheLatest(t *testing.T) {
	srv := herdtest.Start(t)
	ctx := testCtx(t)
	c := newClient(t, srv.Addr)
	if err := c.EnsurePath(ctx, "/kids"); err != nil {
		t.Fatal(err)
	}
	w, err := c.ChildrenWatch(ctx, "/kids", nil) // no callback: Events and Current only
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := c.Create(ctx, "/kids/"+name, nil); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the watch to see three children", func() bool { return len(w.Current().Children) == 3 })
	if v := <-w.Events(); strings.Join(v.Children, ",") != "a,b,c" {
		t.Fatalf("event %v, want the latest list", v.Children)
	}
	select {
	case v := <-w.Events():
		t.Fatalf("a second, stale event: %v", v.Children)
	default:
	}
}

// TestErrorsNameThePackageOnce: an error reads "framework: <op> <path>:
// <cause>", without the package repeated by a wrapped sentinel.
func TestErrorsNameThePackageOnce(t *testing.T) {
	srv := herdtest.Start(t)
	ctx := testCtx(t)
	c := newClient(t, srv.Addr)
	if _, _, err := c.Get(ctx, "bad"); err == nil || err.Error() != "framework: get bad: invalid path: not absolute" ||
		!errors.Is(err, framework.ErrInvalidPath) {
		t.Errorf("Get(bad) = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"framework: get /p: client closed":            func() error { _, _, err := c.Get(ctx, "/p"); return err },
		"framework: set /p: client closed":            func() error { _, err := c.Set(ctx, "/p", nil); return err },
		"framework: exists /p: client closed":         func() error { _, err := c.Exists(ctx, "/p"); return err },
		"framework: children /p: client closed":       func() error { _, _, err := c.Children(ctx, "/p"); return err },
		"framework: create /p: client closed":         func() error { _, err := c.Create(ctx, "/p", nil); return err },
		"framework: delete /p: client closed":         func() error { return c.Delete(ctx, "/p") },
		"framework: ensure path /p: client closed":    func() error { return c.EnsurePath(ctx, "/p") },
		"framework: sync /p: client closed":           func() error { return c.Sync(ctx, "/p") },
		"framework: getW /p: client closed":           func() error { _, _, _, err := c.GetW(ctx, "/p"); return err },
		"framework: data watch /p: client closed":     func() error { _, err := c.DataWatch(ctx, "/p", nil); return err },
		"framework: children watch /p: client closed": func() error { _, err := c.ChildrenWatch(ctx, "/p", nil); return err },
		"framework: txn: client closed":               func() error { _, err := c.Txn().Delete("/p", -1).Commit(ctx); return err },
		"framework: session: client closed":           func() error { _, err := c.Session(ctx); return err },
		"framework: client closed":                    func() error { return c.BlockUntilConnected(ctx) },
	}
	for want, op := range ops {
		err := op()
		if err == nil || err.Error() != want || !errors.Is(err, framework.ErrClosed) {
			t.Errorf("got %v, want %q (matching ErrClosed)", err, want)
		}
	}
}
