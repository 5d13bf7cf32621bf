package fsm_test

import (
	"bytes"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/server/fsm"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
)

// TestSessionOwnerDecidesWhoseWritesApply: a session created at server 1
// takes writes from server 1 only; after it moves to server 2, server 1's
// late writes and closeSession fail with sessionMoved, on every replica, and
// the owner survives a snapshot.
func TestSessionOwnerDecidesWhoseWritesApply(t *testing.T) {
	var moved []int32
	f := newFSM(t, fsm.Hooks{SessionMoved: func(_ int64, owner int32) { moved = append(moved, owner) }})
	pw := bytes.Repeat([]byte{1}, 16)
	from := func(node int32, e fsm.Entry) fsm.Entry { e.Node = node; return e }
	entries := []fsm.Entry{
		{Type: fsm.EntryCreateSession, Time: t0, Session: s1, Node: 1, Passwd: pw, Timeout: 5000},
		from(1, req(s1, t0+1, proto.OpCreate, createReq("/one", "", proto.ModePersistent))),
		from(2, req(s1, t0+2, proto.OpCreate, createReq("/stray", "", proto.ModePersistent))), // -118
		{Type: fsm.EntryMoveSession, Time: t0 + 3, Session: s1, Node: 2},
		from(1, req(s1, t0+4, proto.OpCreate, createReq("/late", "", proto.ModePersistent))), // -118
		{Type: fsm.EntryCloseSession, Time: t0 + 5, Session: s1, Node: 1},                    // -118
		from(2, req(s1, t0+6, proto.OpCreate, createReq("/two", "", proto.ModePersistent))),
		from(0, req(s1, t0+7, proto.OpCreate, createReq("/standalone", "", proto.ModePersistent))),
	}
	want := []proto.Error{proto.ErrOK, proto.ErrOK, proto.ErrSessionMoved, proto.ErrOK, proto.ErrSessionMoved,
		proto.ErrSessionMoved, proto.ErrOK, proto.ErrOK}
	for i, e := range entries {
		res := f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: e.Marshal()}).(*fsm.Result)
		if res.Err != want[i] {
			t.Errorf("entry %d: err %v, want %v", i, res.Err, want[i])
		}
	}
	if len(moved) != 1 || moved[0] != 2 {
		t.Fatalf("SessionMoved hook calls: %v", moved)
	}
	g := newFSM(t, fsm.Hooks{})
	if err := restore(g, snapshot(t, f)); err != nil {
		t.Fatal(err)
	}
	if s, ok := g.Session(s1); !ok || s.Owner != 2 {
		t.Fatalf("session after restore: %+v, %v", s, ok)
	}
}

// TestMembershipChangeIsATransaction: a configuration entry takes its zxid
// and, with a renderer, rewrites /zookeeper/config and fires its watch.
func TestMembershipChangeIsATransaction(t *testing.T) {
	f := newFSM(t, fsm.Hooks{})
	f.SetConfigRenderer(func(c raft.Configuration, index uint64) []byte {
		return []byte("members=" + string(rune('0'+len(c.Servers))))
	})
	conf := raft.Configuration{Servers: []raft.Server{{ID: "1", Address: "a"}, {ID: "2", Address: "b"}}}
	f.Apply(&raft.Log{Index: 7, Type: raft.LogConfiguration, Data: raft.EncodeConfiguration(conf)})
	if f.LastZxid() != 7 {
		t.Fatalf("zxid %d after a membership change at 7", f.LastZxid())
	}
	var data []byte
	var st proto.Stat
	f.Read(func(tr *tree.Tree) { data, st, _ = tr.GetData(tree.Caller{}, "/zookeeper/config") })
	if string(data) != "members=2" || st.Mzxid != 7 || st.Version != 1 {
		t.Fatalf("/zookeeper/config = %q, %+v", data, st)
	}
}
