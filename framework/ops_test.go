package framework_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
)

func testCreateModes(t *testing.T, srv target) {
	ctx := testCtx(t)
	c := newClient(t, srv.Addr())
	base := "/t/create"

	// Parents are created on demand, as persistent nodes or containers.
	p, err := c.Create(ctx, base+"/a/b/c", []byte("x"), framework.WithParents())
	if err != nil || p != base+"/a/b/c" {
		t.Fatalf("create with parents = %q, %v", p, err)
	}
	if _, err := c.Create(ctx, base+"/nope/x", nil); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("create without parents: %v, want ErrNoNode", err)
	}
	if _, err := c.Create(ctx, base+"/cont/x", nil, framework.WithContainerParents()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, base+"/a/b/c", nil); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("second create: %v, want ErrNodeExists", err)
	}

	eph, err := c.Create(ctx, base+"/eph", nil, framework.WithMode(framework.ModeEphemeral))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Exists(ctx, eph)
	if err != nil || st == nil || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("ephemeral stat %+v, %v; session %#x", st, err, c.SessionID())
	}

	s1, err := c.Create(ctx, base+"/seq-", nil, framework.WithMode(framework.ModePersistentSequential))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.Create(ctx, base+"/seq-", nil, framework.WithMode(framework.ModeEphemeralSequential))
	if err != nil {
		t.Fatal(err)
	}
	if len(s1) != len(base+"/seq-")+10 || s2 <= s1 {
		t.Fatalf("sequential names %q, %q", s1, s2)
	}

	if _, err := c.Create(ctx, base+"/container", nil, framework.WithMode(framework.ModeContainer)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, base+"/ttl", nil, framework.WithTTL(time.Hour)); err != nil {
		t.Fatalf("TTL create: %v", err)
	}
	if _, err := c.Create(ctx, base+"/ttlbad", nil, framework.WithMode(framework.ModePersistentWithTTL)); !errors.Is(err, zk.ErrInvalidFlags) {
		t.Fatalf("TTL mode without TTL: %v", err)
	}
	if _, err := c.Create(ctx, base+"/ttlbad", nil, framework.WithTTL(time.Hour), framework.WithMode(framework.ModeEphemeral)); !errors.Is(err, zk.ErrInvalidFlags) {
		t.Fatalf("ephemeral with TTL: %v", err)
	}
	ts, err := c.Create(ctx, base+"/ttlseq-", nil, framework.WithTTL(time.Hour), framework.WithMode(framework.ModePersistentSequential))
	if err != nil || len(ts) != len(base+"/ttlseq-")+10 {
		t.Fatalf("sequential TTL create = %q, %v", ts, err)
	}

	// Protected names carry Curator's prefix.
	pp, err := c.Create(ctx, base+"/lock-", nil, framework.WithMode(framework.ModeEphemeralSequential), framework.WithProtection())
	if err != nil {
		t.Fatal(err)
	}
	_, name := framework.SplitPath(pp)
	if !framework.IsProtectedName(name) || !strings.HasPrefix(framework.StripProtectedPrefix(name), "lock-") {
		t.Fatalf("protected name %q", name)
	}

	kids, err := c.SortedChildren(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(kids) || !slices.Contains(kids, "eph") || !slices.Contains(kids, "container") {
		t.Fatalf("children %v", kids)
	}
	if err := c.EnsurePath(ctx, base+"/e1/e2", framework.AsContainers()); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Exists(ctx, base+"/e1/e2"); err != nil || st == nil {
		t.Fatalf("EnsurePath: %v, %v", st, err)
	}
}

func testGetSetDelete(t *testing.T, srv target) {
	ctx := testCtx(t)
	c := newClient(t, srv.Addr())
	base := "/t/gsd"
	ensure(t, c, base)
	if _, err := c.Create(ctx, base+"/n", []byte("v0")); err != nil {
		t.Fatal(err)
	}
	data, st, err := c.Get(ctx, base+"/n")
	if err != nil || string(data) != "v0" || st.Version != 0 {
		t.Fatalf("get = %q %+v %v", data, st, err)
	}
	if _, err := c.Set(ctx, base+"/n", []byte("v1"), framework.WithVersion(5)); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("set wrong version: %v", err)
	}
	st, err = c.Set(ctx, base+"/n", []byte("v1"), framework.WithVersion(0))
	if err != nil || st.Version != 1 {
		t.Fatalf("set = %+v %v", st, err)
	}
	if _, _, err := c.Get(ctx, base+"/missing"); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("get missing: %v", err)
	}
	if st, err := c.Exists(ctx, base+"/missing"); st != nil || err != nil {
		t.Fatalf("exists missing = %v, %v", st, err)
	}
	if err := c.Sync(ctx, base); err != nil {
		t.Fatal(err)
	}

	if err := c.Delete(ctx, base+"/n", framework.WithVersion(0)); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("delete wrong version: %v", err)
	}
	if err := c.Delete(ctx, base+"/n", framework.WithVersion(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, base+"/n"); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("delete missing: %v", err)
	}
	if err := c.Delete(ctx, base+"/n", framework.Quietly()); err != nil {
		t.Fatalf("quiet delete: %v", err)
	}

	for _, p := range []string{"/tree/a/b", "/tree/a/c", "/tree/d"} {
		if _, err := c.Create(ctx, base+p, nil, framework.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete(ctx, base+"/tree"); !errors.Is(err, zk.ErrNotEmpty) {
		t.Fatalf("non-recursive delete of a tree: %v", err)
	}
	if err := c.Delete(ctx, base+"/tree", framework.Recursive()); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Exists(ctx, base+"/tree"); st != nil {
		t.Fatal("tree still exists")
	}
}

func testTransactions(t *testing.T, srv target) {
	ctx := testCtx(t)
	c := newClient(t, srv.Addr())
	base := "/t/txn"
	ensure(t, c, base)
	res, err := c.Txn().
		Create(base+"/a", []byte("a"), framework.ModePersistent, nil).
		Create(base+"/s-", nil, framework.ModePersistentSequential, nil).
		Set(base+"/a", []byte("b"), 0).
		Check(base+"/a", 1).
		Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || res[0].Created != base+"/a" || !strings.HasPrefix(res[1].Created, base+"/s-") || res[2].Stat == nil || res[2].Stat.Version != 1 {
		t.Fatalf("results %+v", res)
	}
	// A failing transaction applies nothing and reports the failing op's error.
	_, err = c.Txn().
		Create(base+"/b", nil, framework.ModePersistent, nil).
		Create(base+"/a", nil, framework.ModePersistent, nil).
		Commit(ctx)
	if !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("failing txn: %v", err)
	}
	if st, _ := c.Exists(ctx, base+"/b"); st != nil {
		t.Fatal("failed transaction was partly applied")
	}
	data, _, _ := c.Get(ctx, base+"/a")
	if !bytes.Equal(data, []byte("b")) {
		t.Fatalf("data %q", data)
	}
	if _, err := c.Txn().Delete(base+"/a", -1).Delete(base+"/zz", -1).Commit(ctx); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("txn delete missing: %v", err)
	}
}

func testACLAndAuth(t *testing.T, srv target) {
	ctx := testCtx(t)
	owner := newClient(t, srv.Addr(), framework.WithDigestAuth("alice", "secret"))
	other := newClient(t, srv.Addr())
	base := "/t/acl"
	ensure(t, owner, base)
	acl := zk.DigestACL(zk.PermAll, "alice", "secret")
	if _, err := owner.Create(ctx, base+"/private", []byte("s"), framework.WithACL(acl)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := owner.Get(ctx, base+"/private"); err != nil {
		t.Fatalf("owner read: %v", err)
	}
	// In an ensemble another client's server may not have applied the
	// create yet: sync first, as ZooKeeper's consistency guarantees require.
	if err := other.Sync(ctx, base+"/private"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Get(ctx, base+"/private"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("other read: %v, want ErrNoAuth", err)
	}
	got, st, err := owner.GetACL(ctx, base+"/private")
	if err != nil || len(got) != 1 || got[0] != acl[0] {
		t.Fatalf("GetACL = %v %v", got, err)
	}
	if _, err := owner.SetACL(ctx, base+"/private", zk.WorldACL(zk.PermRead), st.Aversion); err != nil {
		t.Fatal(err)
	}
	if err := other.Sync(ctx, base+"/private"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Get(ctx, base+"/private"); err != nil {
		t.Fatalf("read after SetACL: %v", err)
	}

	// The default ACL applies to nodes and parents created without one.
	strict := newClient(t, srv.Addr(), framework.WithDigestAuth("bob", "pw"),
		framework.WithDefaultACL(zk.DigestACL(zk.PermAll, "bob", "pw")))
	if _, err := strict.Create(ctx, base+"/bob/x", nil, framework.WithParents()); err != nil {
		t.Fatal(err)
	}
	if err := other.Sync(ctx, base+"/bob"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Children(ctx, base+"/bob"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("parent ACL: %v, want ErrNoAuth", err)
	}
}
