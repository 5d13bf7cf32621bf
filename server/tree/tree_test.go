package tree

import (
	"reflect"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

func TestNewBuiltins(t *testing.T) {
	tr := New()
	root := mustStat(t, tr, "/")
	if root != (proto.Stat{Cversion: -1, NumChildren: 1}) {
		t.Errorf("root stat %+v", root)
	}
	if st := mustStat(t, tr, "/zookeeper"); st != (proto.Stat{Cversion: -2, NumChildren: 2}) {
		t.Errorf("/zookeeper stat %+v", st)
	}
	if st := mustStat(t, tr, "/zookeeper/config"); st != (proto.Stat{Aversion: -1}) {
		t.Errorf("/zookeeper/config stat %+v", st)
	}
	kids, _, err := tr.GetChildren(anyone, "/")
	if err != nil || !reflect.DeepEqual(kids, []string{"zookeeper"}) {
		t.Errorf("children of / = %v, %v", kids, err)
	}
	acl, _, _ := tr.GetACL(anyone, "/zookeeper/config")
	if !reflect.DeepEqual(acl, proto.ReadACLUnsafe) {
		t.Errorf("config ACL %v", acl)
	}
	data, _, _ := tr.GetData(anyone, "/zookeeper/quota")
	if data == nil || len(data) != 0 {
		t.Errorf("quota data %v, want empty non-null", data)
	}
	if n, err := tr.AllChildrenNumber(anyone, "/"); n != 3 || err != nil {
		t.Errorf("AllChildrenNumber(/) = %d, %v", n, err)
	}
	if tr.NodeCount() != 5 {
		t.Errorf("NodeCount = %d, want 5 as ZooKeeper reports", tr.NodeCount())
	}
	if _, err := tr.SetData(Txn{Zxid: 1}, anyone, "/zookeeper/config", nil, -1); proto.Code(err) != proto.ErrNoAuth {
		t.Errorf("setData config: %v", err)
	}
}

func TestStatBumps(t *testing.T) {
	tr, ck := New(), &clock{}
	tx := ck.next()
	p, st, err := tr.Create(tx, anyone, proto.OpCreate2, "/a", []byte("hello"), open, 0, 0)
	if err != nil || p != "/a" {
		t.Fatal(p, err)
	}
	want := proto.Stat{Czxid: tx.Zxid, Mzxid: tx.Zxid, Pzxid: tx.Zxid, Ctime: tx.Time, Mtime: tx.Time, DataLength: 5}
	if st != want {
		t.Fatalf("create stat %+v, want %+v", st, want)
	}
	root := mustStat(t, tr, "/")
	if root.Cversion != 0 || root.NumChildren != 2 || root.Pzxid != tx.Zxid || root.Mzxid != 0 {
		t.Fatalf("root after create %+v", root)
	}

	// Child create: parent's cversion and pzxid move, mzxid/version don't.
	tx2 := ck.next()
	mustCreateAt(t, tr, tx2, "/a/b")
	a := mustStat(t, tr, "/a")
	if a.Cversion != 1 || a.NumChildren != 1 || a.Pzxid != tx2.Zxid || a.Mzxid != tx.Zxid || a.Version != 0 {
		t.Fatalf("/a after child create %+v", a)
	}

	// setData: version, mzxid, mtime; not pzxid, cversion, aversion.
	tx3 := ck.next()
	st, err = tr.SetData(tx3, anyone, "/a", []byte("xy"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 1 || st.Mzxid != tx3.Zxid || st.Mtime != tx3.Time || st.Pzxid != tx2.Zxid ||
		st.Cversion != 1 || st.Aversion != 0 || st.DataLength != 2 || st.Ctime != tx.Time {
		t.Fatalf("after setData %+v", st)
	}

	// setACL: aversion only.
	tx4 := ck.next()
	st, err = tr.SetACL(tx4, anyone, "/a", open, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Aversion != 1 || st.Mzxid != tx3.Zxid || st.Version != 1 || st.Mtime != tx3.Time {
		t.Fatalf("after setACL %+v", st)
	}

	// Delete child: visible cversion +1 (2*1-0), pzxid moves, stored count kept.
	tx5 := ck.next()
	if err := tr.Delete(tx5, anyone, "/a/b", 0); err != nil {
		t.Fatal(err)
	}
	a = mustStat(t, tr, "/a")
	if a.Cversion != 2 || a.NumChildren != 0 || a.Pzxid != tx5.Zxid || a.Mzxid != tx3.Zxid {
		t.Fatalf("/a after child delete %+v", a)
	}
	// Sequence numbers continue from the stored count of creations.
	p, _, err = tr.Create(ck.next(), anyone, proto.OpCreate, "/a/s-", nil, open, proto.ModePersistentSequential, 0)
	if err != nil || p != "/a/s-0000000001" {
		t.Fatalf("seq create %q, %v", p, err)
	}
}

func mustCreateAt(t *testing.T, tr *Tree, tx Txn, path string) {
	t.Helper()
	if _, _, err := tr.Create(tx, anyone, proto.OpCreate, path, nil, open, 0, 0); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

func TestDeletePzxidOnlyForward(t *testing.T) {
	tr := New()
	mustCreateAt(t, tr, Txn{Zxid: 5}, "/a")
	mustCreateAt(t, tr, Txn{Zxid: 6}, "/a/b")
	mustCreateAt(t, tr, Txn{Zxid: 9}, "/a/c")
	if err := tr.Delete(Txn{Zxid: 7}, anyone, "/a/b", -1); err != nil {
		t.Fatal(err)
	}
	if st := mustStat(t, tr, "/a"); st.Pzxid != 9 {
		t.Fatalf("pzxid moved back to %d", st.Pzxid)
	}
}

func TestSequenceSuffix(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/q", 0)
	for _, p := range []string{"/q/n-", "/q/", "/q/x"} {
		mustCreate(t, tr, ck, anyone, p, proto.ModePersistentSequential)
	}
	mustCreate(t, tr, ck, anyone, "/q/plain", 0) // plain creates count too
	p := mustCreate(t, tr, ck, anyone, "/q/e-", proto.ModeEphemeralSequential)
	if p != "/q/e-0000000004" {
		t.Fatalf("after plain create: %s", p)
	}
	kids, _, _ := tr.GetChildren(anyone, "/q")
	want := []string{"0000000001", "e-0000000004", "n-0000000000", "plain", "x0000000002"}
	if !reflect.DeepEqual(kids, want) {
		t.Fatalf("children %v, want %v", kids, want)
	}
	// Root sequence uses the root's stored count (0 on a fresh tree).
	if p := mustCreate(t, New(), &clock{}, anyone, "/", proto.ModePersistentSequential); p != "/0000000000" {
		t.Fatalf("root seq %s", p)
	}
}

func TestSequenceOverflowFormat(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/q", 0)
	tr.nodes.get("/q").cversion = 2147483647
	p := mustCreate(t, tr, ck, anyone, "/q/n", proto.ModePersistentSequential)
	q := mustCreate(t, tr, ck, anyone, "/q/n", proto.ModePersistentSequential)
	if p != "/q/n2147483647" || q != "/q/n-2147483648" {
		t.Fatalf("%s %s", p, q)
	}
	tr.nodes.get("/q").cversion = -1
	if r := mustCreate(t, tr, ck, anyone, "/q/n", proto.ModePersistentSequential); r != "/q/n-000000001" {
		t.Fatalf("%s", r)
	}
}

func TestCreateErrors(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/a", 0)
	mustCreate(t, tr, ck, anyone, "/e", proto.ModeEphemeral)
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/ro", nil, proto.ReadACLUnsafe, 0, 0); err != nil {
		t.Fatal(err)
	}
	badACL := []proto.ACL{acl(31, "world", "x")}
	cases := []struct {
		name string
		op   proto.OpCode
		path string
		acl  []proto.ACL
		mode proto.CreateMode
		ttl  int64
		want proto.Error
	}{
		{"bad flag", proto.OpCreate, "/x", open, 7, 0, proto.ErrBadArguments},
		{"negative flag", proto.OpCreate, "/x", open, -1, 0, proto.ErrBadArguments},
		{"ttl flag via create", proto.OpCreate, "/x", open, proto.ModePersistentWithTTL, 100, proto.ErrUnimplemented},
		{"createTTL disabled", proto.OpCreateTTL, "/x", open, proto.ModePersistentWithTTL, 100, proto.ErrUnimplemented},
		{"createTTL plain flag", proto.OpCreateTTL, "/x", open, 0, 100, proto.ErrBadArguments},
		{"no slash", proto.OpCreate, "x", open, 0, 0, proto.ErrBadArguments},
		{"nul before ACL", proto.OpCreate, "/x\x00", badACL, 0, 0, proto.ErrBadArguments},
		{"bad ACL before parent", proto.OpCreate, "/nope/x", badACL, 0, 0, proto.ErrInvalidACL},
		{"empty ACL", proto.OpCreate, "/x", nil, 0, 0, proto.ErrInvalidACL},
		{"no parent", proto.OpCreate, "/nope/x", open, 0, 0, proto.ErrNoNode},
		{"no parent before bad path", proto.OpCreate, "/nope/", open, 0, 0, proto.ErrNoNode},
		{"no auth before bad path", proto.OpCreate, "/ro/", open, 0, 0, proto.ErrNoAuth},
		{"exists at top level", proto.OpCreate, "/ro", open, 0, 0, proto.ErrNodeExists},
		{"bad path after parent", proto.OpCreate, "/a/", open, 0, 0, proto.ErrBadArguments},
		{"dot segment", proto.OpCreate, "/a/..", open, 0, 0, proto.ErrBadArguments},
		{"double slash", proto.OpCreate, "//a", open, 0, 0, proto.ErrBadArguments},
		{"exists", proto.OpCreate, "/a", open, 0, 0, proto.ErrNodeExists},
		{"root exists", proto.OpCreate, "/", open, 0, 0, proto.ErrNodeExists},
		{"exists before ephemeral parent", proto.OpCreate, "/e", open, 0, 0, proto.ErrNodeExists},
		{"ephemeral parent", proto.OpCreate, "/e/c", open, 0, 0, proto.ErrNoChildrenForEphemerals},
		{"ephemeral parent seq", proto.OpCreate, "/e/c", open, proto.ModePersistentSequential, 0, proto.ErrNoChildrenForEphemerals},
	}
	for _, c := range cases {
		_, _, err := tr.Create(ck.next(), anyone, c.op, c.path, nil, c.acl, c.mode, c.ttl)
		wantCode(t, c.name, err, c.want)
	}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/ro/x", nil, open, 0, 0); proto.Code(err) != proto.ErrNoAuth {
		t.Fatalf("create under read-only: %v", err)
	}
	if ev := tr.TakeEvents(); len(ev) != 6 { // three successful creates
		t.Fatalf("failed creates produced events: %v", ev)
	}
}

func TestTTLValidation(t *testing.T) {
	tr, ck := New(), &clock{}
	tr.SetOptions(Options{ExtendedTypes: true})
	cases := []struct {
		name string
		op   proto.OpCode
		mode proto.CreateMode
		ttl  int64
		want proto.Error
	}{
		{"ok", proto.OpCreateTTL, proto.ModePersistentWithTTL, 1000, 0},
		{"seq ok", proto.OpCreateTTL, proto.ModePersistentSequentialWithTTL, 1000, 0},
		{"max", proto.OpCreateTTL, proto.ModePersistentWithTTL, 0xFFFFFFFFFF, 0},
		{"too big", proto.OpCreateTTL, proto.ModePersistentWithTTL, 0xFFFFFFFFFF + 1, proto.ErrBadArguments},
		{"zero", proto.OpCreateTTL, proto.ModePersistentWithTTL, 0, proto.ErrBadArguments},
		{"negative", proto.OpCreateTTL, proto.ModePersistentWithTTL, -1, proto.ErrBadArguments},
		{"ttl on plain mode", proto.OpCreateTTL, proto.ModePersistent, 10, proto.ErrBadArguments},
		{"ttl on container mode", proto.OpCreateTTL, proto.ModeContainer, 0, proto.ErrBadArguments},
		{"ttl flag via create", proto.OpCreate, proto.ModePersistentWithTTL, 1000, proto.ErrBadArguments},
		{"ttl flag via create2", proto.OpCreate2, proto.ModePersistentSequentialWithTTL, 1000, proto.ErrBadArguments},
	}
	for i, c := range cases {
		path := "/t" + string(rune('a'+i))
		_, st, err := tr.Create(ck.next(), anyone, c.op, path, nil, open, c.mode, c.ttl)
		wantCode(t, c.name, err, c.want)
		if err == nil && st.EphemeralOwner != 0 {
			t.Errorf("%s: TTL node shows owner %x", c.name, st.EphemeralOwner)
		}
	}
	if n := tr.nodes.get("/ta"); n.kind() != kindTTL || n.storedOwner() != -0x100000000000000|1000 {
		t.Fatalf("stored owner %x", uint64(n.storedOwner()))
	}
}

func TestCreateModes(t *testing.T) {
	tr, ck := New(), &clock{}
	c := Caller{Session: 0x1234}
	_, st, err := tr.Create(ck.next(), c, proto.OpCreate, "/e", nil, open, proto.ModeEphemeral, 0)
	if err != nil || st.EphemeralOwner != 0x1234 {
		t.Fatalf("ephemeral %+v %v", st, err)
	}
	_, st, err = tr.Create(ck.next(), c, proto.OpCreateContainer, "/c", nil, open, proto.ModeContainer, 0)
	if err != nil || st.EphemeralOwner != 0 || tr.nodes.get("/c").storedOwner() != -0x8000000000000000 {
		t.Fatalf("container %+v %v", st, err)
	}
	// Op 1 with flag 4 makes a plain persistent node, as ZooKeeper's CreateTxn does.
	if _, _, err = tr.Create(ck.next(), c, proto.OpCreate, "/p", nil, open, proto.ModeContainer, 0); err != nil || tr.nodes.get("/p").kind() != kindPersistent {
		t.Fatalf("op 1 flag 4: %v", err)
	}
	// Containers may have children; TTL and persistent may too.
	mustCreate(t, tr, ck, c, "/c/x", 0)
	if tr.EphemeralCount() != 1 || !reflect.DeepEqual(tr.Ephemerals(0x1234, ""), []string{"/e"}) {
		t.Fatalf("ephemerals %v", tr.Ephemerals(0x1234, ""))
	}
}

func TestNullVersusEmptyData(t *testing.T) {
	tr, ck := New(), &clock{}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/n", nil, open, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/e", []byte{}, open, 0, 0); err != nil {
		t.Fatal(err)
	}
	if d, st, _ := tr.GetData(anyone, "/n"); d != nil || st.DataLength != 0 {
		t.Fatalf("null data %v", d)
	}
	if d, _, _ := tr.GetData(anyone, "/e"); d == nil || len(d) != 0 {
		t.Fatalf("empty data %v", d)
	}
	buf := []byte("abc")
	if _, err := tr.SetData(ck.next(), anyone, "/n", buf, -1); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X' // the tree must have copied
	if d, _, _ := tr.GetData(anyone, "/n"); string(d) != "abc" {
		t.Fatalf("data aliased caller buffer: %q", d)
	}
	if _, err := tr.SetData(ck.next(), anyone, "/n", nil, -1); err != nil {
		t.Fatal(err)
	}
	if d, _, _ := tr.GetData(anyone, "/n"); d != nil {
		t.Fatalf("setData nil gave %v", d)
	}
}

func TestDeleteErrors(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/a", 0)
	mustCreate(t, tr, ck, anyone, "/a/b", 0)
	noDel := []proto.ACL{acl(proto.PermAll&^proto.PermDelete, "world", "anyone")}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/nd", nil, noDel, 0, 0); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, tr, ck, anyone, "/nd/x", 0)
	cases := []struct {
		name    string
		path    string
		version int32
		want    proto.Error
	}{
		{"root", "/", -1, proto.ErrBadArguments},
		{"zookeeper", "/zookeeper", -1, proto.ErrBadArguments},
		{"quota", "/zookeeper/quota", -1, proto.ErrBadArguments},
		{"config", "/zookeeper/config", -1, proto.ErrBadArguments},
		{"no slash", "a", -1, proto.ErrBadArguments},
		{"nul", "/a\x00", -1, proto.ErrBadArguments},
		{"no parent", "/x/y", -1, proto.ErrNoNode},
		{"no auth before no node", "/nd/missing", -1, proto.ErrNoAuth},
		{"no auth", "/nd/x", -1, proto.ErrNoAuth},
		{"no node", "/missing", -1, proto.ErrNoNode},
		{"trailing slash is just absent", "/a/", -1, proto.ErrNoNode},
		{"bad version before not empty", "/a", 3, proto.ErrBadVersion},
		{"not empty", "/a", 0, proto.ErrNotEmpty},
	}
	for _, c := range cases {
		wantCode(t, c.name, tr.Delete(ck.next(), anyone, c.path, c.version), c.want)
	}
	tr.TakeEvents()
	if err := tr.Delete(ck.next(), anyone, "/a/b", 0); err != nil {
		t.Fatal(err)
	}
	want := []Event{{proto.EventNodeDeleted, "/a/b"}, {proto.EventNodeChildrenChanged, "/a"}}
	if ev := tr.TakeEvents(); !reflect.DeepEqual(ev, want) {
		t.Fatalf("events %v", ev)
	}
	// A child of a system node can be deleted.
	mustCreate(t, tr, ck, anyone, "/zookeeper/mine", 0)
	if err := tr.Delete(ck.next(), anyone, "/zookeeper/mine", -1); err != nil {
		t.Fatal(err)
	}
}

func TestSetDataAndACLErrors(t *testing.T) {
	tr, ck := New(), &clock{}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/ro", nil, proto.ReadACLUnsafe, 0, 0); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, tr, ck, anyone, "/a", 0)
	sd := []struct {
		name    string
		path    string
		version int32
		want    proto.Error
	}{
		{"bad path", "/a/", -1, proto.ErrBadArguments},
		{"no node", "/x", -1, proto.ErrNoNode},
		{"no auth before version", "/ro", 9, proto.ErrNoAuth},
		{"bad version", "/a", 1, proto.ErrBadVersion},
		{"ok", "/a", 0, 0},
	}
	for _, c := range sd {
		_, err := tr.SetData(ck.next(), anyone, c.path, nil, c.version)
		wantCode(t, "setData "+c.name, err, c.want)
	}
	sa := []struct {
		name    string
		path    string
		acl     []proto.ACL
		version int32
		want    proto.Error
	}{
		{"bad path", "a", nil, -1, proto.ErrBadArguments},
		{"bad ACL before node", "/x", nil, -1, proto.ErrInvalidACL},
		{"no node", "/x", open, -1, proto.ErrNoNode},
		{"no admin", "/ro", open, -1, proto.ErrNoAuth},
		{"aversion", "/a", open, 1, proto.ErrBadVersion},
		{"ok", "/a", open, 0, 0},
		{"ok any", "/a", open, -1, 0},
	}
	for _, c := range sa {
		_, err := tr.SetACL(ck.next(), anyone, c.path, c.acl, c.version)
		wantCode(t, "setACL "+c.name, err, c.want)
	}
	tr.TakeEvents()
	if _, err := tr.SetACL(ck.next(), anyone, "/a", open, -1); err != nil {
		t.Fatal(err)
	}
	if ev := tr.TakeEvents(); len(ev) != 0 {
		t.Fatalf("setACL fired %v", ev)
	}
	if _, err := tr.SetData(ck.next(), anyone, "/a", []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
	if ev := tr.TakeEvents(); !reflect.DeepEqual(ev, []Event{{proto.EventNodeDataChanged, "/a"}}) {
		t.Fatalf("setData events %v", ev)
	}
	// Super bypasses ACL checks.
	if _, err := tr.SetData(ck.next(), Caller{Super: true}, "/ro", []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
}

func TestCreateEvents(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/a", 0)
	mustCreate(t, tr, ck, anyone, "/a/b", 0)
	want := []Event{
		{proto.EventNodeCreated, "/a"}, {proto.EventNodeChildrenChanged, "/"},
		{proto.EventNodeCreated, "/a/b"}, {proto.EventNodeChildrenChanged, "/a"},
	}
	if ev := tr.TakeEvents(); !reflect.DeepEqual(ev, want) {
		t.Fatalf("events %v", ev)
	}
	if ev := tr.TakeEvents(); ev != nil {
		t.Fatalf("events not cleared: %v", ev)
	}
}

func TestReadsACLAndErrors(t *testing.T) {
	tr, ck := New(), &clock{}
	dig := DigestID("u:p")
	owner := Caller{Session: 2, Ids: []proto.Id{{Scheme: "digest", ID: dig}}}
	secret := []proto.ACL{acl(31, "digest", dig)}
	readOnly := []proto.ACL{acl(31, "digest", dig), acl(proto.PermRead, "world", "anyone")}
	for p, a := range map[string][]proto.ACL{"/s": secret, "/r": readOnly} {
		if _, _, err := tr.Create(ck.next(), owner, proto.OpCreate, p, []byte("x"), a, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	// ZooKeeper 3.8.0 answers exists without a permission check.
	if st, err := tr.Exists(anyone, "/s"); err != nil || st.DataLength != 1 {
		t.Errorf("exists on unreadable: %+v %v", st, err)
	}
	if _, err := tr.Exists(anyone, "/nope"); proto.Code(err) != proto.ErrNoNode {
		t.Errorf("exists missing: %v", err)
	}
	if _, err := tr.Exists(anyone, "/a\x00"); proto.Code(err) != proto.ErrBadArguments {
		t.Errorf("exists NUL: %v", err)
	}
	if _, _, err := tr.GetData(anyone, "bad//path"); proto.Code(err) != proto.ErrNoNode {
		t.Errorf("getData invalid path: %v", err)
	}
	if _, _, err := tr.GetData(anyone, "/s"); proto.Code(err) != proto.ErrNoAuth {
		t.Errorf("getData: %v", err)
	}
	if _, _, err := tr.GetChildren(anyone, "/s"); proto.Code(err) != proto.ErrNoAuth {
		t.Errorf("getChildren: %v", err)
	}
	if _, err := tr.AllChildrenNumber(anyone, "/s"); proto.Code(err) != proto.ErrNoAuth {
		t.Errorf("allChildren: %v", err)
	}
	if _, _, err := tr.GetACL(anyone, "/s"); proto.Code(err) != proto.ErrNoAuth {
		t.Errorf("getACL: %v", err)
	}
	got, _, err := tr.GetACL(anyone, "/r")
	if err != nil || got[0].ID.ID != "u:x" {
		t.Errorf("masked getACL %v %v", got, err)
	}
	got, _, err = tr.GetACL(owner, "/r")
	if err != nil || !reflect.DeepEqual(got, readOnly) {
		t.Errorf("owner getACL %v %v", got, err)
	}
	if d, _, err := tr.GetData(owner, "/s"); err != nil || string(d) != "x" {
		t.Errorf("owner getData %q %v", d, err)
	}
	if _, ok := tr.Stat("/s"); !ok {
		t.Error("Stat checks ACLs")
	}
}

func TestAllChildrenNumber(t *testing.T) {
	tr, ck := New(), &clock{}
	for _, p := range []string{"/a", "/a/b", "/a/b/c", "/a/d", "/ab"} {
		mustCreate(t, tr, ck, anyone, p, 0)
	}
	for path, want := range map[string]int32{"/": 8, "/a": 3, "/a/b": 1, "/ab": 0, "/zookeeper": 2} {
		if n, err := tr.AllChildrenNumber(anyone, path); n != want || err != nil {
			t.Errorf("AllChildrenNumber(%s) = %d, %v; want %d", path, n, err, want)
		}
	}
	if _, err := tr.AllChildrenNumber(anyone, "/x"); proto.Code(err) != proto.ErrNoNode {
		t.Error(err)
	}
}

func TestCloseSession(t *testing.T) {
	tr, ck := New(), &clock{}
	s1, s2 := Caller{Session: 1}, Caller{Session: 2}
	mustCreate(t, tr, ck, anyone, "/p", 0)
	for _, p := range []string{"/p/z", "/p/a", "/m"} {
		mustCreate(t, tr, ck, s1, p, proto.ModeEphemeral)
	}
	mustCreate(t, tr, ck, s2, "/p/k", proto.ModeEphemeral)
	if got := tr.Ephemerals(1, "/p"); !reflect.DeepEqual(got, []string{"/p/a", "/p/z"}) {
		t.Fatalf("Ephemerals prefix %v", got)
	}
	if got := tr.Ephemerals(1, " / "); len(got) != 3 {
		t.Fatalf("Ephemerals / %v", got)
	}
	sess := tr.SessionsWithEphemerals()
	if !reflect.DeepEqual(sess, map[int64][]string{1: {"/m", "/p/a", "/p/z"}, 2: {"/p/k"}}) {
		t.Fatalf("sessions %v", sess)
	}
	tr.TakeEvents()
	tx := ck.next()
	tr.CloseSession(tx, 1)
	want := []Event{
		{proto.EventNodeDeleted, "/m"}, {proto.EventNodeChildrenChanged, "/"},
		{proto.EventNodeDeleted, "/p/a"}, {proto.EventNodeChildrenChanged, "/p"},
		{proto.EventNodeDeleted, "/p/z"}, {proto.EventNodeChildrenChanged, "/p"},
	}
	if ev := tr.TakeEvents(); !reflect.DeepEqual(ev, want) {
		t.Fatalf("events %v", ev)
	}
	if st := mustStat(t, tr, "/p"); st.Pzxid != tx.Zxid || st.NumChildren != 1 || st.Cversion != 2*3-1 {
		t.Fatalf("/p %+v", st)
	}
	if tr.EphemeralCount() != 1 || len(tr.Ephemerals(1, "")) != 0 {
		t.Fatal("session 1 ephemerals remain")
	}
	tr.CloseSession(ck.next(), 99) // unknown session: nothing
	if ev := tr.TakeEvents(); len(ev) != 0 {
		t.Fatal(ev)
	}
}

func TestContainersAndTTL(t *testing.T) {
	tr := New()
	tr.SetOptions(Options{ExtendedTypes: true})
	ck := &clock{time: 1000}
	mustCreate(t, tr, ck, anyone, "/c", proto.ModeContainer)    // never used
	mustCreate(t, tr, ck, anyone, "/used", proto.ModeContainer) // gets a child, then empty
	mustCreate(t, tr, ck, anyone, "/full", proto.ModeContainer) // keeps a child
	mustCreate(t, tr, ck, anyone, "/plain", proto.ModePersistent)
	mustCreate(t, tr, ck, anyone, "/used/x", 0)
	mustCreate(t, tr, ck, anyone, "/full/x", 0)
	if err := tr.Delete(ck.next(), anyone, "/used/x", -1); err != nil {
		t.Fatal(err)
	}
	ttlAt := ck.next()
	if _, _, err := tr.Create(ttlAt, anyone, proto.OpCreateTTL, "/ttl", nil, open, proto.ModePersistentWithTTL, 100); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreateTTL, "/ttlp", nil, open, proto.ModePersistentWithTTL, 100); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, tr, ck, anyone, "/ttlp/kid", 0)

	if got := tr.ExpiredNodes(ttlAt.Time + 100); !reflect.DeepEqual(got, []string{"/used"}) {
		t.Fatalf("at ttl boundary: %v", got)
	}
	if got := tr.ExpiredNodes(ttlAt.Time + 101); !reflect.DeepEqual(got, []string{"/ttl", "/used"}) {
		t.Fatalf("after ttl: %v", got)
	}
	// setData resets the TTL clock; the reaper re-checks at its own time.
	if _, err := tr.SetData(Txn{Zxid: 100, Time: ttlAt.Time + 50}, anyone, "/ttl", nil, -1); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "fresh ttl", tr.DeleteContainer(Txn{Zxid: 101, Time: ttlAt.Time + 101}, "/ttl"), proto.ErrBadVersion)
	wantCode(t, "unused container", tr.DeleteContainer(Txn{Zxid: 102, Time: 1 << 40}, "/c"), proto.ErrBadVersion)
	wantCode(t, "full container", tr.DeleteContainer(Txn{Zxid: 103, Time: 1 << 40}, "/full"), proto.ErrNotEmpty)
	wantCode(t, "plain", tr.DeleteContainer(Txn{Zxid: 104, Time: 1 << 40}, "/plain"), proto.ErrBadVersion)
	wantCode(t, "missing", tr.DeleteContainer(Txn{Zxid: 105, Time: 1 << 40}, "/nope"), proto.ErrNoNode)
	wantCode(t, "system", tr.DeleteContainer(Txn{Zxid: 105, Time: 1 << 40}, "/zookeeper"), proto.ErrBadArguments)
	tr.TakeEvents()
	if err := tr.DeleteContainer(Txn{Zxid: 106, Time: ttlAt.Time + 200}, "/ttl"); err != nil {
		t.Fatal(err)
	}
	if err := tr.DeleteContainer(Txn{Zxid: 107, Time: ttlAt.Time + 200}, "/used"); err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{proto.EventNodeDeleted, "/ttl"}, {proto.EventNodeChildrenChanged, "/"},
		{proto.EventNodeDeleted, "/used"}, {proto.EventNodeChildrenChanged, "/"},
	}
	if ev := tr.TakeEvents(); !reflect.DeepEqual(ev, want) {
		t.Fatalf("events %v", ev)
	}
	if got := tr.ExpiredNodes(1 << 40); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
}

func TestCountersAndDataSize(t *testing.T) {
	tr, ck := New(), &clock{}
	base := tr.ApproximateDataSize()
	if base != int64(len("/")+len("/zookeeper")+len("/zookeeper/quota")+len("/zookeeper/config")) {
		t.Fatalf("base size %d", base)
	}
	mustCreate(t, tr, ck, anyone, "/ab", 0) // data "d"
	if tr.ApproximateDataSize() != base+4 {
		t.Fatalf("size %d", tr.ApproximateDataSize())
	}
	if _, err := tr.SetData(ck.next(), anyone, "/ab", []byte("12345"), -1); err != nil {
		t.Fatal(err)
	}
	if tr.ApproximateDataSize() != base+8 || tr.NodeCount() != 6 {
		t.Fatalf("size %d count %d", tr.ApproximateDataSize(), tr.NodeCount())
	}
	if err := tr.Delete(ck.next(), anyone, "/ab", -1); err != nil {
		t.Fatal(err)
	}
	if tr.ApproximateDataSize() != base || tr.NodeCount() != 5 {
		t.Fatalf("size %d count %d", tr.ApproximateDataSize(), tr.NodeCount())
	}
}
