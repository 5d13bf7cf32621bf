package framework_test

import (
	"slices"
	"testing"

	"github.com/herd-io/herd/framework"
)

func testNamespaces(t *testing.T, srv target) {
	ctx := testCtx(t)
	root := newClient(t, srv.Addr())
	one := newClient(t, srv.Addr()+"/t/ns/one")
	two := newClient(t, srv.Addr()+"/t/ns/two")

	// The same path in two namespaces is two nodes; the namespace node is
	// created on first use.
	if p, err := one.Create(ctx, "/a", []byte("1")); err != nil || p != "/a" {
		t.Fatalf("create in one = %q, %v", p, err)
	}
	if _, err := two.Create(ctx, "/a", []byte("2")); err != nil {
		t.Fatal(err)
	}
	// root reads what the others wrote: in an ensemble its server may lag
	// behind theirs until it syncs.
	if err := root.Sync(ctx, "/t/ns"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *framework.Client
		p    string
		want string
	}{{one, "/a", "1"}, {two, "/a", "2"}, {root, "/t/ns/one/a", "1"}, {root, "/t/ns/two/a", "2"}} {
		data, _, err := tc.c.Get(ctx, tc.p)
		if err != nil || string(data) != tc.want {
			t.Fatalf("get %s = %q, %v; want %q", tc.p, data, err, tc.want)
		}
	}
	kids, err := one.SortedChildren(ctx, "/")
	if err != nil || !slices.Equal(kids, []string{"a"}) {
		t.Fatalf("children of one's root = %v, %v", kids, err)
	}

	// Sequential names and watch events come back relative to the namespace.
	seq, err := one.Create(ctx, "/s-", nil, framework.WithMode(framework.ModePersistentSequential))
	if err != nil || len(seq) != len("/s-")+10 {
		t.Fatalf("sequential in namespace = %q, %v", seq, err)
	}
	_, _, ch, err := one.GetW(ctx, "/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Set(ctx, "/t/ns/one/a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; ev.Path != "/a" {
		t.Fatalf("event path %q, want /a", ev.Path)
	}

	// A view of a client shares its session and nests below its namespace.
	view, err := one.Namespace("/sub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := view.Create(ctx, "/v", nil); err != nil {
		t.Fatal(err)
	}
	if err := root.Sync(ctx, "/t/ns"); err != nil {
		t.Fatal(err)
	}
	if st, err := root.Exists(ctx, "/t/ns/one/sub/v"); err != nil || st == nil {
		t.Fatalf("view node on server: %v, %v", st, err)
	}
	if view.SessionID() != one.SessionID() {
		t.Fatal("view has its own session")
	}
	if err := view.Close(); err == nil {
		t.Fatal("Close on a view should fail")
	}
	if _, _, err := two.Get(ctx, "/sub/v"); err == nil {
		t.Fatal("namespace two sees one's node")
	}
}
