package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/proto"
)

// TestWatchEventPrecedesNewData checks ZooKeeper's ordering guarantee: a
// client sees the notification of a change before any reply that reflects
// the change. The writer runs on another connection, concurrently with a
// stream of reads on the watching one.
func TestWatchEventPrecedesNewData(t *testing.T) {
	s := herdtest.Start(t)
	reader := dial(t, s.Addr, wireclient.Options{})
	writer := dial(t, s.Addr, wireclient.Options{})
	for i := 0; i < 20; i++ {
		path := fmt.Sprintf("/x%d", i)
		create(t, writer, path, "old", proto.ModePersistent)
		if d, _ := getData(t, reader, path, true); d != "old" {
			t.Fatalf("%s = %q", path, d)
		}
		before := reader.Notifications()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = writer.Do(testCtx(t), proto.OpSetData, &proto.SetDataRequest{Path: path, Data: []byte("new"), Version: -1}, nil)
		}()
		for {
			d, st := getData(t, reader, path, false)
			if d == "old" {
				continue
			}
			if reader.Notifications() != before+1 {
				t.Fatalf("%s: reply with version %d arrived before its NodeDataChanged", path, st.Version)
			}
			break
		}
		<-done
		expectEvents(t, reader, wireclient.Event{Type: proto.EventNodeDataChanged, Path: path})
	}
}

// TestSetWatchesDeliversMissedEvents re-attaches after changes were missed: SetWatches reports them before
// its reply and re-arms the rest.
func TestSetWatchesDeliversMissedEvents(t *testing.T) {
	s := herdtest.Start(t)
	c := dial(t, s.Addr, wireclient.Options{})
	for _, p := range []string{"/changed", "/same", "/deleted", "/parent", "/quiet", "/born-early"} {
		create(t, c, p, "v0", proto.ModePersistent)
	}
	getData(t, c, "/changed", true)
	getData(t, c, "/same", true)
	exists(t, c, "/deleted", true)
	exists(t, c, "/created", true)
	children(t, c, "/parent", true)
	children(t, c, "/quiet", true)
	id, pw, seen := c.SessionID(), c.Passwd(), c.LastZxid()
	c.Drop() // connection lost, session alive: its watches are gone server-side

	other := dial(t, s.Addr, wireclient.Options{})
	setData(t, other, "/changed", "v1")
	create(t, other, "/created", "", proto.ModePersistent)
	create(t, other, "/parent/kid", "", proto.ModePersistent)
	if _, err := other.Do(testCtx(t), proto.OpDelete, &proto.DeleteRequest{Path: "/deleted", Version: -1}, nil); err != nil {
		t.Fatal(err)
	}

	c2 := dial(t, s.Addr, wireclient.Options{SessionID: id, Passwd: pw, LastZxid: seen})
	sw := &proto.SetWatches{
		RelativeZxid: seen,
		Data:         []string{"/changed", "/same", "/deleted"},
		Exist:        []string{"/created", "/absent"},
		Child:        []string{"/parent", "/quiet"},
	}
	hdr, err := c2.Do(testCtx(t), proto.OpSetWatches, sw, nil)
	if err != nil {
		t.Fatalf("setWatches: %+v %v", hdr, err)
	}
	// The missed events come before the SetWatches reply.
	if n := c2.Notifications(); n != 4 {
		t.Fatalf("%d notifications before the setWatches reply, want 4", n)
	}
	expectEvents(t, c2,
		wireclient.Event{Type: proto.EventNodeDataChanged, Path: "/changed"},
		wireclient.Event{Type: proto.EventNodeDeleted, Path: "/deleted"},
		wireclient.Event{Type: proto.EventNodeCreated, Path: "/created"},
		wireclient.Event{Type: proto.EventNodeChildrenChanged, Path: "/parent"})
	// The others were re-armed and fire on the next change.
	setData(t, other, "/same", "v1")
	expectEvents(t, c2, wireclient.Event{Type: proto.EventNodeDataChanged, Path: "/same"})
	create(t, other, "/absent", "", proto.ModePersistent)
	expectEvents(t, c2, wireclient.Event{Type: proto.EventNodeCreated, Path: "/absent"})
	create(t, other, "/quiet/kid", "", proto.ModePersistent)
	expectEvents(t, c2, wireclient.Event{Type: proto.EventNodeChildrenChanged, Path: "/quiet"})
	// Fired watches were consumed: a second change says nothing.
	setData(t, other, "/changed", "v2")
	setData(t, other, "/same", "v2")
	if d, _ := getData(t, c2, "/same", false); d != "v2" || c2.Notifications() != 7 {
		t.Fatalf("extra notifications: %d", c2.Notifications())
	}
}

// TestWatchesGoneAfterConnectionCloses checks with wchs and mntr that a closed connection's watches are
// removed.
func TestWatchesGoneAfterConnectionCloses(t *testing.T) {
	s := herdtest.Start(t)
	c := dial(t, s.Addr, wireclient.Options{})
	create(t, c, "/a", "", proto.ModePersistent)
	create(t, c, "/b", "", proto.ModePersistent)
	getData(t, c, "/a", true)
	exists(t, c, "/b", true)
	exists(t, c, "/nope", true)
	children(t, c, "/", true)
	if _, err := c.Do(testCtx(t), proto.OpAddWatch, &proto.AddWatchRequest{Path: "/a", Mode: proto.AddWatchPersistentRecursive}, nil); err != nil {
		t.Fatal(err)
	}
	keep := dial(t, s.Addr, wireclient.Options{})
	exists(t, keep, "/b", true)

	if got := fourLetter(t, s.Addr, "wchs"); got != "2 connections watching 3 paths\nTotal watches:4\n" {
		t.Fatalf("wchs before close = %q", got)
	}
	c.Drop() // the session lives on; the connection's watches do not
	waitFor(t, "the closed connection's watches to go", func() bool {
		return fourLetter(t, s.Addr, "wchs") == "1 connections watching 1 paths\nTotal watches:1\n"
	})
	if mntr := fourLetter(t, s.Addr, "mntr"); !strings.Contains(mntr, "zk_watch_count\t1\n") {
		t.Fatalf("mntr after close:\n%s", mntr)
	}
	// Changes now reach only the remaining watcher, and nothing breaks.
	setData(t, keep, "/a", "x")
	setData(t, keep, "/b", "x")
	expectEvents(t, keep, wireclient.Event{Type: proto.EventNodeDataChanged, Path: "/b"})
	keep.Close(testCtx(t))
	waitFor(t, "all watches to go", func() bool {
		return fourLetter(t, s.Addr, "wchs") == "0 connections watching 0 paths\nTotal watches:0\n"
	})
}

// TestSetWatches2RearmsPersistentWatches checks that SetWatches2 re-arms persistent and persistent-recursive
// watches.
func TestSetWatches2RearmsPersistentWatches(t *testing.T) {
	s := herdtest.Start(t)
	w := dial(t, s.Addr, wireclient.Options{})
	create(t, w, "/p", "", proto.ModePersistent)
	create(t, w, "/r", "", proto.ModePersistent)
	sw := &proto.SetWatches{V2: true, RelativeZxid: w.LastZxid(), Persistent: []string{"/p"}, PersistentRecursive: []string{"/r"}}
	if _, err := w.Do(testCtx(t), proto.OpSetWatches2, sw, nil); err != nil {
		t.Fatal(err)
	}
	other := dial(t, s.Addr, wireclient.Options{})
	setData(t, other, "/p", "1")
	create(t, other, "/p/kid", "", proto.ModePersistent)
	create(t, other, "/r/a", "", proto.ModePersistent)
	create(t, other, "/r/a/b", "", proto.ModePersistent)
	setData(t, other, "/p", "2") // persistent: fires again
	expectEvents(t, w,
		wireclient.Event{Type: proto.EventNodeDataChanged, Path: "/p"},
		wireclient.Event{Type: proto.EventNodeChildrenChanged, Path: "/p"},
		wireclient.Event{Type: proto.EventNodeCreated, Path: "/r/a"},
		wireclient.Event{Type: proto.EventNodeCreated, Path: "/r/a/b"},
		wireclient.Event{Type: proto.EventNodeDataChanged, Path: "/p"})
}

// TestGoZKReconnectReceivesMissedEvents cuts a go-zk client off (through a
// fault proxy), changes what it watches, and lets it reconnect: go-zk's
// automatic SetWatches (xid -8, relativeZxid = last zxid seen) must deliver
// what it missed.
func TestGoZKReconnectReceivesMissedEvents(t *testing.T) {
	zkpeer.SkipGoZKReconnectRace(t, raceEnabled)
	t.Parallel() // mostly waits out go-zk's reconnect backoff
	s := herdtest.Start(t)
	p, err := faultproxy.New(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	zc := connect(t, p.Addr())
	other := dial(t, s.Addr, wireclient.Options{})
	create(t, other, "/x", "old", proto.ModePersistent)
	_, _, dataCh, err := zc.GetW("/x")
	if err != nil {
		t.Fatal(err)
	}
	_, _, existCh, err := zc.ExistsW("/y")
	if err != nil {
		t.Fatal(err)
	}
	p.Refuse(true)
	p.Cut()
	waitFor(t, "the session to be watched by nobody", func() bool {
		return strings.HasPrefix(fourLetter(t, s.Addr, "wchs"), "0 connections")
	})
	setData(t, other, "/x", "new")
	create(t, other, "/y", "", proto.ModePersistent)
	p.Refuse(false)
	for ch, want := range map[<-chan zk.Event]zk.EventType{dataCh: zk.EventNodeDataChanged, existCh: zk.EventNodeCreated} {
		select {
		case ev := <-ch:
			if ev.Type != want {
				t.Fatalf("event %+v, want %v", ev, want)
			}
		case <-time.After(waitTimeout):
			t.Fatal("missed event not delivered after reconnect")
		}
	}
	if data, _, err := zc.Get("/x"); err != nil || string(data) != "new" {
		t.Fatalf("get after reconnect: %q %v", data, err)
	}
}
