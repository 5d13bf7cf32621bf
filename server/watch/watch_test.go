package watch

import (
	"testing"

	"github.com/herd-io/herd/server/proto"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type rec struct{ got []Event }

func (r *rec) Notify(ev Event) { r.got = append(r.got, ev) }

func ev(t proto.EventType, p string) Event { return Event{Type: t, Path: p, Zxid: 1} }

func TestOneShotDataWatchFiresOnce(t *testing.T) {
	m := NewManager()
	w := &rec{}
	m.AddData("/a", w)
	m.AddData("/a", w) // registered twice, notified once
	if n := m.Trigger(ev(proto.EventNodeDataChanged, "/a")); n != 1 {
		t.Fatalf("notified %d, want 1", n)
	}
	m.Trigger(ev(proto.EventNodeDataChanged, "/a"))
	if len(w.got) != 1 {
		t.Fatalf("got %d events, want 1", len(w.got))
	}
	if m.Count() != 0 {
		t.Fatalf("watch left after firing")
	}
}

func TestDeleteFiresDataAndChildOnceAndParentChild(t *testing.T) {
	m := NewManager()
	w := &rec{}
	m.AddData("/a", w)
	m.AddChild("/a", w)
	m.AddChild("/", w)
	m.Trigger(ev(proto.EventNodeDeleted, "/a"))
	m.Trigger(ev(proto.EventNodeChildrenChanged, "/"))
	if len(w.got) != 2 || w.got[0].Type != proto.EventNodeDeleted || w.got[1].Path != "/" {
		t.Fatalf("events = %+v", w.got)
	}
}

func TestChildWatchIgnoresDataChange(t *testing.T) {
	m := NewManager()
	w := &rec{}
	m.AddChild("/a", w)
	m.Trigger(ev(proto.EventNodeDataChanged, "/a"))
	m.Trigger(ev(proto.EventNodeCreated, "/a"))
	if len(w.got) != 0 {
		t.Fatalf("child watch fired for data events: %+v", w.got)
	}
}

func TestPersistentStaysAndSeesChildren(t *testing.T) {
	m := NewManager()
	w := &rec{}
	m.AddPersistent("/a", w, false)
	for i := 0; i < 3; i++ {
		m.Trigger(ev(proto.EventNodeDataChanged, "/a"))
	}
	m.Trigger(ev(proto.EventNodeChildrenChanged, "/a"))
	m.Trigger(ev(proto.EventNodeDataChanged, "/a/b")) // not exact path
	if len(w.got) != 4 {
		t.Fatalf("got %d events, want 4: %+v", len(w.got), w.got)
	}
}

func TestRecursiveSeesDescendantsButNotChildList(t *testing.T) {
	m := NewManager()
	w := &rec{}
	m.AddPersistent("/a", w, true)
	m.Trigger(ev(proto.EventNodeCreated, "/a/b/c"))
	m.Trigger(ev(proto.EventNodeDataChanged, "/a"))
	m.Trigger(ev(proto.EventNodeChildrenChanged, "/a"))
	m.Trigger(ev(proto.EventNodeDeleted, "/ab")) // sibling prefix, not a descendant
	if len(w.got) != 2 {
		t.Fatalf("got %+v", w.got)
	}
	root := &rec{}
	m.AddPersistent("/", root, true)
	m.Trigger(ev(proto.EventNodeCreated, "/x"))
	if len(root.got) != 1 {
		t.Fatalf("root recursive watch missed /x: %+v", root.got)
	}
}

func TestCheckRemoveAndRemoveWatcher(t *testing.T) {
	m := NewManager()
	w, other := &rec{}, &rec{}
	m.AddData("/a", w)
	m.AddChild("/a", w)
	m.AddPersistent("/p", w, true)
	m.AddData("/a", other)
	if !m.Check("/a", w, proto.WatcherData) || m.Check("/b", w, proto.WatcherData) {
		t.Fatal("check mismatch")
	}
	// A recursive watch lives in the data table and is found as a data watch.
	if !m.Check("/p", w, proto.WatcherData) || m.Check("/p", w, proto.WatcherChildren) {
		t.Fatal("recursive watch not found as data watch")
	}
	if !m.Remove("/a", w, proto.WatcherChildren) || m.Remove("/a", w, proto.WatcherChildren) {
		t.Fatal("remove children mismatch")
	}
	if !m.Remove("/p", w, proto.WatcherAny) {
		t.Fatal("remove recursive via any")
	}
	m.Trigger(ev(proto.EventNodeCreated, "/p/x"))
	if len(w.got) != 0 {
		t.Fatalf("removed recursive watch fired: %+v", w.got)
	}
	m.RemoveWatcher(w)
	m.Trigger(ev(proto.EventNodeDataChanged, "/a"))
	if len(w.got) != 0 || len(other.got) != 1 {
		t.Fatalf("w=%+v other=%+v", w.got, other.got)
	}
	if s := m.Stats(); s.Total != 0 || m.Count() != 0 {
		t.Fatalf("stats after cleanup: %+v count %d", s, m.Count())
	}
}

// TestPathsOfListsDataWatchesOnly: wchc/wchp show what ZooKeeper's
// DataTree.dumpWatches shows, the data table (one-shot data watches and
// persistent watches), never a getChildren watch.
func TestPathsOfListsDataWatchesOnly(t *testing.T) {
	m := NewManager()
	w := &rec{}
	m.AddChild("/kids", w)
	m.AddData("/data", w)
	m.AddPersistent("/p", w, false)
	m.AddPersistent("/r", w, true)
	got := m.PathsOf(w)
	want := []string{"/data", "/p", "/r"}
	if len(got) != len(want) {
		t.Fatalf("PathsOf = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("PathsOf = %v, want %v", got, want)
		}
	}
}
