package framework_test

import (
	"testing"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/herdtest"
)

// TestRawWatchVisibleAfterLaterCall: with a namespace, a watch that a write
// fired is already visible (non-blocking receive) once a later read on the
// same client has returned — the guarantee the *WRaw methods document.
func TestRawWatchVisibleAfterLaterCall(t *testing.T) {
	srv := herdtest.Start(t)
	root := newClient(t, srv.Addr)
	c, err := root.Namespace("/raw")
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for _, p := range []string{"/a", "/b"} {
		if _, err := c.Create(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		_, _, dataCh, err := c.GetWRaw(ctx, "/a")
		if err != nil {
			t.Fatal(err)
		}
		_, _, kidsCh, err := c.ChildrenWRaw(ctx, "/")
		if err != nil {
			t.Fatal(err)
		}
		st, existCh, err := c.ExistsWRaw(ctx, "/gone")
		if err != nil || st != nil {
			t.Fatalf("ExistsWRaw(/gone) = %v, %v", st, err)
		}
		if _, err := c.Set(ctx, "/a", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(ctx, "/gone", nil); err != nil {
			t.Fatal(err)
		}
		// A later call returns only after the notifications were handled.
		if _, _, err := c.Get(ctx, "/b"); err != nil {
			t.Fatal(err)
		}
		for name, ch := range map[string]<-chan zk.Event{"data": dataCh, "children": kidsCh, "exists": existCh} {
			select {
			case ev := <-ch:
				if ev.Path[:4] != "/raw" {
					t.Fatalf("%s event path %q is not the server path", name, ev.Path)
				}
			default:
				t.Fatalf("round %d: %s watch not visible after a later call returned", i, name)
			}
		}
		if err := c.Delete(ctx, "/gone"); err != nil {
			t.Fatal(err)
		}
	}
}
