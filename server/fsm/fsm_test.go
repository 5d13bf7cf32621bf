package fsm_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/server/fsm"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/watch"
)

const (
	s1 int64 = 0x100
	s2 int64 = 0x200
	t0 int64 = 1_700_000_000_000 // proposer clock at the first entry, ms
)

// body encodes a request record.
func body(r proto.Record) []byte {
	var e proto.Encoder
	r.Encode(&e)
	return e.Bytes()
}

// req is a client write by session on behalf of the ip id 127.0.0.1.
func req(session int64, at int64, op proto.OpCode, r proto.Record) fsm.Entry {
	return fsm.Entry{Type: fsm.EntryRequest, Time: at, Session: session,
		Ids: []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}}, Op: op, Body: body(r)}
}

// createReq is a create with an open ACL.
func createReq(path, data string, mode proto.CreateMode) *proto.CreateRequest {
	return &proto.CreateRequest{Path: path, Data: []byte(data), ACL: proto.OpenACLUnsafe, Flags: mode}
}

// script is a log exercising every entry type, successes and failures.
func script() []fsm.Entry {
	pw := bytes.Repeat([]byte{7}, 16)
	at := func(ms int64) int64 { return t0 + ms }
	return []fsm.Entry{
		{Type: fsm.EntryCreateSession, Time: at(0), Session: s1, Passwd: pw, Timeout: 5000},
		{Type: fsm.EntryCreateSession, Time: at(1), Session: s2, Passwd: pw, Timeout: 9000},
		req(s1, at(2), proto.OpCreate, createReq("/a", "x", proto.ModePersistent)),
		req(s1, at(3), proto.OpCreate, createReq("/a", "y", proto.ModePersistent)), // -110
		req(s1, at(4), proto.OpCreate2, createReq("/a/seq-", "", proto.ModePersistentSequential)),
		req(s2, at(5), proto.OpCreate2, createReq("/a/seq-", "", proto.ModeEphemeralSequential)),
		req(s1, at(6), proto.OpCreate, createReq("/e", "", proto.ModeEphemeral)),
		req(s1, at(7), proto.OpCreateContainer, createReq("/c", "", proto.ModeContainer)),
		req(s1, at(8), proto.OpCreate, createReq("/c/k", "", proto.ModePersistent)),
		req(s1, at(9), proto.OpDelete, &proto.DeleteRequest{Path: "/c/k", Version: -1}),
		req(s1, at(10), proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/t", ACL: proto.OpenACLUnsafe,
			Flags: proto.ModePersistentWithTTL, TTL: 1000}),
		req(s1, at(11), proto.OpSetData, &proto.SetDataRequest{Path: "/a", Data: []byte("z"), Version: -1}),
		req(s1, at(12), proto.OpSetData, &proto.SetDataRequest{Path: "/a", Version: 99}), // -103
		req(s1, at(13), proto.OpSetACL, &proto.SetACLRequest{Path: "/a", Version: -1,
			ACL: []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "u:hash"}}}}),
		req(s2, at(14), proto.OpSetData, &proto.SetDataRequest{Path: "/a", Version: -1}), // -102
		req(s2, at(15), proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Op: proto.OpCreate, Create: &proto.CreateTTLRequest{Path: "/m", ACL: proto.OpenACLUnsafe}},
			{Op: proto.OpSetData, SetData: &proto.SetDataRequest{Path: "/m", Data: []byte("m"), Version: 0}},
		}}),
		req(s2, at(16), proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{ // rolled back
			{Op: proto.OpCreate, Create: &proto.CreateTTLRequest{Path: "/m2", ACL: proto.OpenACLUnsafe}},
			{Op: proto.OpDelete, Delete: &proto.DeleteRequest{Path: "/missing", Version: -1}},
		}}),
		req(s1, at(17), proto.OpDeleteContainer, &proto.PathRequest{Path: "/c"}), // clients may not
		req(s1, at(18), proto.OpReconfig, &proto.ReconfigRequest{}),
		{Type: fsm.EntryReap, Time: at(19), Path: "/c"},   // emptied container: reaped
		{Type: fsm.EntryReap, Time: at(20), Path: "/t"},   // TTL not yet due: refused
		{Type: fsm.EntryReap, Time: at(20), Path: "/a"},   // not a container
		{Type: fsm.EntryReap, Time: at(2000), Path: "/t"}, // TTL due
		{Type: fsm.EntryCloseSession, Time: at(2001), Session: s1},
		req(s1, at(2002), proto.OpCreate, createReq("/late", "", proto.ModePersistent)),               // -112
		{Type: fsm.EntryCloseSession, Time: at(2003), Session: s1},                                    // twice: no-op
		{Type: fsm.EntryRequest, Time: at(2004), Session: s2, Op: proto.OpCreate, Body: []byte{0xff}}, // -5
	}
}

// log turns entries into Raft log records, with a no-op entry between
// some of them as a leader change would insert (a gap in the zxids).
func log(entries []fsm.Entry) []*raft.Log {
	var out []*raft.Log
	idx := uint64(1)
	for i, e := range entries {
		if i%7 == 3 {
			out = append(out, &raft.Log{Index: idx, Type: raft.LogNoop})
			idx++
		}
		out = append(out, &raft.Log{Index: idx, Type: raft.LogCommand, Data: e.Marshal()})
		idx++
	}
	return out
}

// newFSM returns an FSM with TTL nodes enabled.
func newFSM(t testing.TB, hooks fsm.Hooks) *fsm.FSM {
	t.Helper()
	return fsm.New(watch.NewManager(), fsm.Options{ExtendedTypes: true, Hooks: hooks})
}

// sink collects a persisted snapshot.
type sink struct {
	bytes.Buffer
	canceled, closed bool
}

// ID, Cancel and Close implement raft.SnapshotSink.
func (s *sink) ID() string    { return "test" }
func (s *sink) Cancel() error { s.canceled = true; return nil }
func (s *sink) Close() error  { s.closed = true; return nil }

// snapshot persists f's state and returns the bytes.
func snapshot(t testing.TB, f *fsm.FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var s sink
	if err := snap.Persist(&s); err != nil || !s.closed || s.canceled {
		t.Fatalf("persist: %v (closed %v, canceled %v)", err, s.closed, s.canceled)
	}
	return s.Bytes()
}

// restore replaces f's state with snapshot b.
func restore(f *fsm.FSM, b []byte) error { return f.Restore(io.NopCloser(bytes.NewReader(b))) }

// applyAll applies logs one at a time and returns the results.
func applyAll(f *fsm.FSM, logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	for i, l := range logs {
		out[i] = f.Apply(l)
	}
	return out
}

// TestSameLogSameStateAndResults applies one log to two FSMs (one entry at a time and in batches): results
// and snapshot bytes must be identical.
func TestSameLogSameStateAndResults(t *testing.T) {
	logs := log(script())
	a, b := newFSM(t, fsm.Hooks{}), newFSM(t, fsm.Hooks{})
	ra := applyAll(a, logs)
	// The other replica applies in batches, as raft does with BatchingFSM.
	var rb []interface{}
	for i := 0; i < len(logs); i += 4 {
		rb = append(rb, b.ApplyBatch(logs[i:min(i+4, len(logs))])...)
	}
	if !reflect.DeepEqual(ra, rb) {
		t.Fatalf("results differ:\n%v\n%v", ra, rb)
	}
	sa, sb := snapshot(t, a), snapshot(t, b)
	if !bytes.Equal(sa, sb) {
		t.Fatal("snapshots differ")
	}
	if !bytes.Equal(sa, snapshot(t, a)) {
		t.Fatal("snapshotting twice gives different bytes")
	}
	if a.LastZxid() != int64(logs[len(logs)-1].Index) || b.LastZxid() != a.LastZxid() {
		t.Fatalf("lastZxid %d/%d, want %d", a.LastZxid(), b.LastZxid(), logs[len(logs)-1].Index)
	}

	// Spot-check the outcomes ZooKeeper would give.
	want := map[int]proto.Error{ // script index → error
		2: proto.ErrOK, 3: proto.ErrNodeExists, 12: proto.ErrBadVersion, 14: proto.ErrNoAuth,
		15: proto.ErrOK, 16: proto.ErrOK /* multi answers 0 */, 17: proto.ErrBadArguments,
		18: proto.ErrReconfigDisabled, 19: proto.ErrOK, 20: proto.ErrBadVersion, 21: proto.ErrNotEmpty,
		22: proto.ErrOK, 24: proto.ErrSessionExpired, 26: proto.ErrMarshallingError,
	}
	cmd := 0
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			if ra[i] != nil {
				t.Errorf("non-command entry %d gave %v", i, ra[i])
			}
			continue
		}
		res := ra[i].(*fsm.Result)
		if res.Zxid != int64(l.Index) {
			t.Errorf("entry %d: zxid %d, want the log index %d", cmd, res.Zxid, l.Index)
		}
		if w, ok := want[cmd]; ok && res.Err != w {
			t.Errorf("entry %d: err %v, want %v", cmd, res.Err, w)
		}
		cmd++
	}
	if ss := a.Sessions(); len(ss) != 1 || ss[0].ID != s2 || ss[0].Timeout != 9000 {
		t.Fatalf("sessions %+v", ss)
	}
}

// TestSnapshotRestoreRoundTrip restores a snapshot over other state and checks the copy equals, and keeps
// behaving like, the original.
func TestSnapshotRestoreRoundTrip(t *testing.T) {
	entries := script()
	logs := log(entries)
	half := len(logs) / 2
	a := newFSM(t, fsm.Hooks{})
	applyAll(a, logs[:half])
	snap := snapshot(t, a)

	restored := 0
	b := newFSM(t, fsm.Hooks{Restored: func() { restored++ }})
	applyAll(b, log(script()[:3])) // state that Restore must replace entirely
	if err := restore(b, snap); err != nil {
		t.Fatal(err)
	}
	if restored != 1 {
		t.Fatalf("Restored hook ran %d times", restored)
	}
	if !bytes.Equal(snapshot(t, b), snap) || b.LastZxid() != a.LastZxid() ||
		!reflect.DeepEqual(a.Sessions(), b.Sessions()) || !reflect.DeepEqual(a.SessionTimeouts(), b.SessionTimeouts()) {
		t.Fatal("restored state differs")
	}
	// The restored replica continues exactly like the original.
	ra, rb := applyAll(a, logs[half:]), applyAll(b, logs[half:])
	if !reflect.DeepEqual(ra, rb) {
		t.Fatalf("results after restore differ:\n%v\n%v", ra, rb)
	}
	if !bytes.Equal(snapshot(t, a), snapshot(t, b)) {
		t.Fatal("snapshots after restore differ")
	}
}

// TestConcurrentSnapshots takes raft's snapshot and a backup's at once while
// entries apply (run with -race): each is the state at its own point.
func TestConcurrentSnapshots(t *testing.T) {
	logs := log(script())
	f := newFSM(t, fsm.Hooks{})
	applyAll(f, logs[:len(logs)/2])
	want := snapshot(t, f)
	var wg sync.WaitGroup
	got := make([][]byte, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b bytes.Buffer
			if _, err := f.WriteSnapshotTo(&b); err != nil {
				t.Error(err)
			}
			got[i] = b.Bytes()
		}()
	}
	wg.Wait()
	for i, g := range got {
		if !bytes.Equal(g, want) {
			t.Fatalf("snapshot %d differs from the state it was taken at", i)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if _, err := f.WriteSnapshotTo(io.Discard); err != nil {
				t.Error(err)
			}
		}
	}()
	applyAll(f, logs[len(logs)/2:])
	<-done
}

// TestCorruptSnapshotRefused checks that damaged snapshots are refused with ErrBadSnapshot and leave the
// state as it was.
func TestCorruptSnapshotRefused(t *testing.T) {
	a := newFSM(t, fsm.Hooks{})
	applyAll(a, log(script()))
	good := snapshot(t, a)

	b := newFSM(t, fsm.Hooks{})
	applyAll(b, log(script()[:5]))
	before, beforeZxid := snapshot(t, b), b.LastZxid()
	unchanged := func(what string) {
		t.Helper()
		if !bytes.Equal(snapshot(t, b), before) || b.LastZxid() != beforeZxid {
			t.Fatalf("%s: a refused snapshot changed the state", what)
		}
	}
	bad := func(what string, data []byte) {
		t.Helper()
		if err := restore(b, data); !errors.Is(err, fsm.ErrBadSnapshot) {
			t.Fatalf("%s: restore = %v, want ErrBadSnapshot", what, err)
		}
		unchanged(what)
	}
	bad("empty", nil)
	bad("bad magic", append([]byte("NOTHERD!"), good[8:]...))
	for n := 0; n < len(good); n++ {
		bad("truncated", good[:n])
	}
	bad("trailing garbage", append(append([]byte(nil), good...), 0, 1, 2))
	// Flipping any byte must never panic; it is refused or yields some state.
	for i := range good {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			c := append([]byte(nil), good...)
			c[i] ^= x
			if err := b.Restore(io.NopCloser(bytes.NewReader(c))); err != nil {
				if !errors.Is(err, fsm.ErrBadSnapshot) {
					t.Fatalf("flip at %d: %v", i, err)
				}
				unchanged("flip")
			}
			if err := restore(b, before); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestCorruptCountsDoNotExhaustMemory feeds snapshots whose counts claim
// far more than the bytes behind them: Restore must fail having allocated
// about as much as it read, not what the counts claim.
func TestCorruptCountsDoNotExhaustMemory(t *testing.T) {
	header := func() []byte {
		b := append([]byte("HERDSNP1"), make([]byte, 8)...) // magic, zxid 0
		return binary.BigEndian.AppendUint32(b, 0)          // no sessions
	}
	treeV := func(magic string, nACL, nodes uint64) []byte {
		b := append(header(), magic...)
		b = binary.AppendUvarint(b, nACL)
		return binary.AppendUvarint(b, nodes)
	}
	tree := func(nACL, nodes uint64) []byte { return treeV("HRDT\x01", nACL, nodes) }
	sessions := binary.BigEndian.AppendUint32(append([]byte("HERDSNP1"), make([]byte, 8)...), 1<<31)
	for name, data := range map[string][]byte{
		"node count":                 tree(0, 1<<40),
		"node count, tree version 2": treeV("HRDT\x02", 0, 1<<40),
		"acl count":                  tree(1<<40, 0),
		"sessions":                   sessions,
	} {
		f := newFSM(t, fsm.Hooks{})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := restore(f, data)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, fsm.ErrBadSnapshot) {
			t.Fatalf("%s: %v", name, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Errorf("%s: restoring %d bytes allocated %d MB", name, len(data), n>>20)
		}
	}
}

// TestUndecodableEntriesDoNotPanic applies garbage and mutated entries: no panic, each consumes its zxid, and
// two replicas agree.
func TestUndecodableEntriesDoNotPanic(t *testing.T) {
	f := newFSM(t, fsm.Hooks{})
	g := newFSM(t, fsm.Hooks{})
	valid := log(script())
	rng := rand.New(rand.NewPCG(1, 2))
	idx := uint64(1)
	apply := func(data []byte) {
		t.Helper()
		l := &raft.Log{Index: idx, Type: raft.LogCommand, Data: data}
		idx++
		rf, rg := f.Apply(l), g.Apply(l)
		res, ok := rf.(*fsm.Result)
		if !ok || res.Zxid != int64(l.Index) {
			t.Fatalf("entry %x: result %v", data, rf)
		}
		if !reflect.DeepEqual(rf, rg) {
			t.Fatalf("entry %x: replicas disagree: %v vs %v", data, rf, rg)
		}
		if f.LastZxid() != int64(l.Index) {
			t.Fatalf("entry %x did not consume its zxid", data)
		}
	}
	for _, data := range [][]byte{nil, {}, {0}, {0, 0, 0, 1}, {0, 0, 0, 2, 0, 0, 0, 9}, bytes.Repeat([]byte{0xff}, 64)} {
		apply(data)
		if r := f.Apply(&raft.Log{Index: idx - 1, Type: raft.LogCommand, Data: data}).(*fsm.Result); r.Err != proto.ErrMarshallingError {
			t.Fatalf("undecodable %x: err %v", data, r.Err)
		}
	}
	// Valid entries mutated: truncated, bytes flipped, and applied in a
	// scrambled order, on two replicas that must stay identical.
	for round := 0; round < 300; round++ {
		src := valid[rng.IntN(len(valid))]
		if src.Type != raft.LogCommand {
			continue
		}
		data := append([]byte(nil), src.Data...)
		switch rng.IntN(3) {
		case 0:
			data = data[:rng.IntN(len(data)+1)]
		case 1:
			for k := 0; k < 1+rng.IntN(3); k++ {
				data[rng.IntN(len(data))] ^= byte(1 + rng.IntN(255))
			}
		}
		apply(data)
	}
	if !bytes.Equal(snapshot(t, f), snapshot(t, g)) {
		t.Fatal("replicas diverged")
	}
}

// TestWatchesFireWithEntryZxid checks that applied changes fire watches with the entry's zxid, and the
// SessionClosed hook.
func TestWatchesFireWithEntryZxid(t *testing.T) {
	m := watch.NewManager()
	var closed []int64
	f := fsm.New(m, fsm.Options{Hooks: fsm.Hooks{SessionClosed: func(id int64) { closed = append(closed, id) }}})
	w := &recorder{}
	logs := log(script()[:7]) // up to creating /e
	applyAll(f, logs[:len(logs)-1])
	m.AddData("/e", w)
	m.AddChild("/", w)
	applyAll(f, logs[len(logs)-1:])
	createIdx := int64(logs[len(logs)-1].Index)
	if len(w.events) != 2 || w.events[0] != (watch.Event{Type: proto.EventNodeCreated, Path: "/e", Zxid: createIdx}) {
		t.Fatalf("events %+v", w.events)
	}
	w.events = nil
	m.AddData("/e", w)
	m.AddChild("/", w)
	closeLog := &raft.Log{Index: uint64(createIdx + 1), Type: raft.LogCommand,
		Data: (&fsm.Entry{Type: fsm.EntryCloseSession, Session: s1}).Marshal()}
	f.Apply(closeLog)
	if len(closed) != 1 || closed[0] != s1 {
		t.Fatalf("SessionClosed hook: %v", closed)
	}
	got := map[watch.Event]bool{}
	for _, ev := range w.events {
		got[ev] = true
	}
	for _, ev := range []watch.Event{{Type: proto.EventNodeDeleted, Path: "/e", Zxid: createIdx + 1},
		{Type: proto.EventNodeChildrenChanged, Path: "/", Zxid: createIdx + 1}} {
		if !got[ev] {
			t.Fatalf("missing %+v in %+v", ev, w.events)
		}
	}
}

// recorder is a watch.Watcher that keeps what it is told.
type recorder struct{ events []watch.Event }

// Notify implements watch.Watcher.
func (r *recorder) Notify(ev watch.Event) { r.events = append(r.events, ev) }

// TestRestorePreviousFormat restores a snapshot written before the tree's
// child counts (testdata/snapshot-v2-tree-v1.bin: the state after script(),
// as the previous release wrote it): the state equals a replica that applied
// the log, and its next snapshot is in the current format.
func TestRestorePreviousFormat(t *testing.T) {
	old, err := os.ReadFile("testdata/snapshot-v2-tree-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	a := newFSM(t, fsm.Hooks{})
	applyAll(a, log(script()))
	b := newFSM(t, fsm.Hooks{})
	if err := restore(b, old); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshot(t, b), snapshot(t, a)) || b.LastZxid() != a.LastZxid() ||
		!reflect.DeepEqual(a.Sessions(), b.Sessions()) {
		t.Fatal("state restored from the previous format differs")
	}
	if bytes.Equal(snapshot(t, b), old) {
		t.Fatal("the previous format was written again")
	}
}
