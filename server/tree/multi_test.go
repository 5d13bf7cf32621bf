package tree

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

func createOp(op proto.OpCode, path string, mode proto.CreateMode) proto.MultiOp {
	return proto.MultiOp{Op: op, Create: &proto.CreateTTLRequest{Path: path, Data: []byte("m"), ACL: open, Flags: mode}}
}

func deleteOp(path string, v int32) proto.MultiOp {
	return proto.MultiOp{Op: proto.OpDelete, Delete: &proto.DeleteRequest{Path: path, Version: v}}
}

func setOp(path string, v int32) proto.MultiOp {
	return proto.MultiOp{Op: proto.OpSetData, SetData: &proto.SetDataRequest{Path: path, Data: []byte("s"), Version: v}}
}

func checkOp(path string, v int32) proto.MultiOp {
	return proto.MultiOp{Op: proto.OpCheck, Check: &proto.CheckVersionRequest{Path: path, Version: v}}
}

func snapshotBytes(t *testing.T, tr *Tree) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tr.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMultiSuccess(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/old", 0)
	tr.TakeEvents()
	tx := ck.next()
	res := tr.Multi(tx, anyone, []proto.MultiOp{
		createOp(proto.OpCreate, "/m", 0),
		createOp(proto.OpCreate, "/m/s-", proto.ModePersistentSequential),
		createOp(proto.OpCreate2, "/m/s-", proto.ModePersistentSequential),
		setOp("/m", 0),
		checkOp("/m", 1),
		deleteOp("/old", 0),
		createOp(proto.OpCreate, "/m/c", proto.ModeContainer),
	})
	if len(res) != 7 {
		t.Fatalf("%d results", len(res))
	}
	if res[0].Op != proto.OpCreate || res[0].Path != "/m" || res[0].Stat != nil {
		t.Errorf("r0 %+v", res[0])
	}
	if res[1].Path != "/m/s-0000000000" || res[2].Path != "/m/s-0000000001" {
		t.Errorf("sequence %q %q", res[1].Path, res[2].Path)
	}
	// ZooKeeper rebuilds creates from their flags: op 15 with a plain flag
	// answers as create (1), path only.
	if res[2].Op != proto.OpCreate || res[2].Stat != nil {
		t.Errorf("r2 %+v", res[2])
	}
	if res[3].Op != proto.OpSetData || res[3].Stat.Version != 1 || res[3].Stat.Mzxid != tx.Zxid {
		t.Errorf("r3 %+v", res[3])
	}
	if res[4].Op != proto.OpCheck || res[5].Op != proto.OpDelete {
		t.Errorf("r4/r5 %+v %+v", res[4], res[5])
	}
	// Flag 4 inside multi is a container, reported as create2.
	if res[6].Op != proto.OpCreate2 || tr.nodes.get("/m/c").kind() != kindContainer || res[6].Stat.Czxid != tx.Zxid {
		t.Errorf("r6 %+v", res[6])
	}
	for _, r := range res {
		if r.Err != proto.ErrOK {
			t.Errorf("err in %+v", r)
		}
	}
	st := mustStat(t, tr, "/m")
	if st.Czxid != tx.Zxid || st.Pzxid != tx.Zxid || st.NumChildren != 3 || st.Cversion != 3 {
		t.Errorf("/m %+v", st)
	}
	want := []Event{
		{proto.EventNodeCreated, "/m"}, {proto.EventNodeChildrenChanged, "/"},
		{proto.EventNodeCreated, "/m/s-0000000000"}, {proto.EventNodeChildrenChanged, "/m"},
		{proto.EventNodeCreated, "/m/s-0000000001"}, {proto.EventNodeChildrenChanged, "/m"},
		{proto.EventNodeDataChanged, "/m"},
		{proto.EventNodeDeleted, "/old"}, {proto.EventNodeChildrenChanged, "/"},
		{proto.EventNodeCreated, "/m/c"}, {proto.EventNodeChildrenChanged, "/m"},
	}
	if ev := tr.TakeEvents(); !reflect.DeepEqual(ev, want) {
		t.Errorf("events %v", ev)
	}
	if res := tr.Multi(ck.next(), anyone, nil); len(res) != 0 {
		t.Errorf("empty multi %v", res)
	}
}

func TestMultiRollback(t *testing.T) {
	ops := [][]proto.MultiOp{
		{createOp(proto.OpCreate, "/new", 0), createOp(proto.OpCreate, "/new/k", proto.ModeEphemeral),
			setOp("/a", -1), deleteOp("/a/b", -1), createOp(proto.OpCreate, "/a", 0), checkOp("/a", -1)},
		{deleteOp("/a/b", -1), deleteOp("/a", -1), checkOp("/a", 0)},
		{createOp(proto.OpCreate, "/a/s", proto.ModePersistentSequential), setOp("/a", 0), setOp("/a", 0)},
		{createOp(proto.OpCreateTTL, "/t", proto.ModePersistentWithTTL)},
		{createOp(proto.OpCreate, "/a/e", proto.ModeEphemeral), createOp(proto.OpCreate, "/a/e/x", 0)},
		{checkOp("/a", 5), setOp("/a", -1)},
		{setOp("/a", -1), checkOp("/a", 0)}, // the check sees the earlier setData
	}
	wantErr := [][]proto.Error{
		{0, 0, 0, 0, proto.ErrNodeExists, proto.ErrRuntimeInconsistency},
		{0, 0, proto.ErrNoNode},
		{0, 0, proto.ErrBadVersion},
		{proto.ErrUnimplemented},
		{0, proto.ErrNoChildrenForEphemerals},
		{proto.ErrBadVersion, proto.ErrRuntimeInconsistency},
		{0, proto.ErrBadVersion},
	}
	for i := range ops {
		tr, ck := New(), &clock{}
		mustCreate(t, tr, ck, anyone, "/a", 0)
		mustCreate(t, tr, ck, anyone, "/a/b", 0)
		tr.TakeEvents()
		before := snapshotBytes(t, tr)
		beforeEph, beforeSize := tr.EphemeralCount(), tr.ApproximateDataSize()
		res := tr.Multi(ck.next(), Caller{Session: 7}, ops[i])
		for j, r := range res {
			if r.Op != proto.OpError || r.Err != wantErr[i][j] || r.Path != "" || r.Stat != nil {
				t.Errorf("case %d op %d: %+v, want err %d", i, j, r, wantErr[i][j])
			}
		}
		if ev := tr.TakeEvents(); len(ev) != 0 {
			t.Errorf("case %d: events %v", i, ev)
		}
		if !bytes.Equal(before, snapshotBytes(t, tr)) {
			t.Errorf("case %d: tree changed by a failed multi", i)
		}
		if tr.EphemeralCount() != beforeEph || tr.ApproximateDataSize() != beforeSize {
			t.Errorf("case %d: counters changed", i)
		}
		if tr.undo != nil {
			t.Errorf("case %d: undo log left", i)
		}
	}
}

func TestMultiACLAndTTL(t *testing.T) {
	tr, ck := New(), &clock{}
	tr.SetOptions(Options{ExtendedTypes: true})
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/ro", nil, proto.ReadACLUnsafe, 0, 0); err != nil {
		t.Fatal(err)
	}
	res := tr.Multi(ck.next(), anyone, []proto.MultiOp{checkOp("/ro", 0), setOp("/ro", 0)})
	if res[0].Err != 0 || res[1].Err != proto.ErrNoAuth {
		t.Fatalf("%+v", res)
	}
	ttl := createOp(proto.OpCreateTTL, "/t", proto.ModePersistentWithTTL)
	ttl.Create.TTL = 500
	if err := ValidateMulti([]proto.MultiOp{ttl}); err != nil {
		t.Fatal(err)
	}
	res = tr.Multi(ck.next(), anyone, []proto.MultiOp{ttl})
	if res[0].Op != proto.OpCreate2 || tr.nodes.get("/t").kind() != kindTTL || tr.nodes.get("/t").owner() != 500 {
		t.Fatalf("ttl in multi %+v", res)
	}
	// A TTL flag on op 1/15/19 makes ZooKeeper reject the whole request.
	for _, op := range []proto.OpCode{proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer} {
		bad := createOp(op, "/t3", proto.ModePersistentSequentialWithTTL)
		bad.Create.TTL = 500
		ops := []proto.MultiOp{checkOp("/ro", -1), bad}
		if err := ValidateMulti(ops); !errors.Is(err, proto.ErrMarshallingError) {
			t.Fatalf("ValidateMulti(%v) = %v", op, err)
		}
		if res = tr.Multi(ck.next(), anyone, ops); res[1].Err != proto.ErrMarshallingError {
			t.Fatalf("%v with TTL flag: %+v", op, res)
		}
	}
	// Op 21 with a plain flag ignores the ttl; op 19 with flag 1 is an ephemeral.
	plain := createOp(proto.OpCreateTTL, "/p", 0)
	plain.Create.TTL = 500
	eph := createOp(proto.OpCreateContainer, "/e", proto.ModeEphemeral)
	res = tr.Multi(ck.next(), Caller{Session: 9}, []proto.MultiOp{plain, eph})
	if res[0].Op != proto.OpCreate || res[1].Op != proto.OpCreate || tr.nodes.get("/p").kind() != kindPersistent ||
		tr.nodes.get("/e").kind() != kindEphemeral || tr.nodes.get("/e").owner() != 9 {
		t.Fatalf("%+v", res)
	}
	if res = tr.Multi(ck.next(), anyone, []proto.MultiOp{createOp(proto.OpCreate, "/f", 7)}); res[0].Err != proto.ErrBadArguments {
		t.Fatalf("flag 7: %+v", res)
	}
	bad := createOp(proto.OpCreateTTL, "/t2", proto.ModePersistentWithTTL) // ttl 0
	if res = tr.Multi(ck.next(), anyone, []proto.MultiOp{bad}); res[0].Err != proto.ErrBadArguments {
		t.Fatalf("%+v", res)
	}
	if res = tr.Multi(ck.next(), anyone, []proto.MultiOp{{Op: proto.OpGetData}}); res[0].Err != proto.ErrBadArguments {
		t.Fatalf("read op in multi: %+v", res)
	}
}

func TestMultiRead(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/a", 0)
	mustCreate(t, tr, ck, anyone, "/a/y", 0)
	mustCreate(t, tr, ck, anyone, "/a/x", 0)
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/s", nil, []proto.ACL{acl(31, "digest", "u:h")}, 0, 0); err != nil {
		t.Fatal(err)
	}
	read := func(op proto.OpCode, p string) proto.MultiOp {
		return proto.MultiOp{Op: op, Read: &proto.PathWatchRequest{Path: p}}
	}
	res := tr.MultiRead(anyone, []proto.MultiOp{
		read(proto.OpGetData, "/a"), read(proto.OpGetChildren, "/a"), read(proto.OpGetData, "/nope"),
		read(proto.OpGetChildren, "/s"), read(proto.OpGetData, "/a/x"),
	})
	if res[0].Op != proto.OpGetData || string(res[0].Data) != "d" || res[0].Stat.NumChildren != 2 {
		t.Errorf("r0 %+v", res[0])
	}
	if res[1].Op != proto.OpGetChildren || !reflect.DeepEqual(res[1].Children, []string{"x", "y"}) {
		t.Errorf("r1 %+v", res[1])
	}
	if res[2].Op != proto.OpError || res[2].Err != proto.ErrNoNode {
		t.Errorf("r2 %+v", res[2])
	}
	if res[3].Op != proto.OpError || res[3].Err != proto.ErrNoAuth {
		t.Errorf("r3 %+v", res[3])
	}
	if res[4].Op != proto.OpGetData || res[4].Err != 0 {
		t.Errorf("r4 %+v", res[4])
	}
}
