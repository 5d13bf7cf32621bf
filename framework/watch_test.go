package framework_test

import (
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/zkpeer"
)

type dataUpdate struct {
	data   string
	exists bool
}

func testWatchesSurviveReconnect(t *testing.T, srv target) {
	zkpeer.SkipGoZKReconnectRace(t, raceEnabled)
	ctx := testCtx(t)
	writer := newClient(t, srv.Addr())
	ensure(t, writer, "/t/watch")
	px := newProxy(t, srv.Addr())
	c := newClient(t, px.Addr())
	states := c.StateChanges(ctx)

	updates := make(chan dataUpdate, 100)
	w, err := c.DataWatch(ctx, "/t/watch/cfg", func(data []byte, st *zk.Stat) bool {
		updates <- dataUpdate{string(data), st != nil}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	kidsCh := make(chan []string, 100)
	cw, err := c.ChildrenWatch(ctx, "/t/watch", func(kids []string, _ *zk.Stat) bool {
		kidsCh <- kids
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	expectData(t, updates, dataUpdate{"", false})
	expectKids(t, kidsCh, nil)

	if _, err := writer.Create(ctx, "/t/watch/cfg", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	expectData(t, updates, dataUpdate{"v1", true})
	expectKids(t, kidsCh, []string{"cfg"})

	// Change the data while the client is disconnected (same session).
	px.Refuse(true)
	px.Cut()
	expectStates(t, states, framework.Suspended)
	if _, err := writer.Set(ctx, "/t/watch/cfg", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Create(ctx, "/t/watch/other", nil); err != nil {
		t.Fatal(err)
	}
	px.Refuse(false)
	expectStates(t, states, framework.Reconnected)
	expectData(t, updates, dataUpdate{"v2", true})
	expectKids(t, kidsCh, []string{"cfg", "other"})
	if _, err := writer.Set(ctx, "/t/watch/cfg", []byte("v3")); err != nil {
		t.Fatal(err)
	}
	expectData(t, updates, dataUpdate{"v3", true})

	// And after the session expires: the watches re-arm on the new session.
	expireSession(t, srv.Addr(), c)
	expectStates(t, states, framework.Suspended, framework.Lost, framework.Reconnected)
	if _, err := writer.Set(ctx, "/t/watch/cfg", []byte("v4")); err != nil {
		t.Fatal(err)
	}
	expectData(t, updates, dataUpdate{"v4", true})
	if err := writer.Delete(ctx, "/t/watch/cfg"); err != nil {
		t.Fatal(err)
	}
	expectData(t, updates, dataUpdate{"", false})
	expectKids(t, kidsCh, []string{"other"})

	// Returning false stops a watch; so does the client's Close.
	stop, err := c.DataWatch(ctx, "/t/watch/other", func([]byte, *zk.Stat) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if err := stop.Err(); err != nil {
		t.Fatalf("stopped watch: %v", err)
	}
	_ = c.Close()
	if err := w.Err(); err == nil {
		t.Fatal("data watch survived Close")
	}
	<-cw.Done()
	select {
	case u := <-updates:
		t.Fatalf("unexpected update %+v", u)
	default:
	}
}

func expectData(t *testing.T, ch <-chan dataUpdate, want dataUpdate) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("data watch got %+v, want %+v", got, want)
		}
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %+v", want)
	}
}

func expectKids(t *testing.T, ch <-chan []string, want []string) {
	t.Helper()
	select {
	case got := <-ch:
		if !slices.Equal(got, want) {
			t.Fatalf("children watch got %v, want %v", got, want)
		}
	case <-time.After(wait):
		t.Fatalf("timed out waiting for children %v", want)
	}
}
