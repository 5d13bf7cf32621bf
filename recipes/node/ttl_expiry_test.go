package node_test

import (
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/node"
	"github.com/herd-io/herd/server"
)

// TestTTLNodeOutlivesTTLWhileOwnerLives: a TTL node kept by its owner
// outlives its TTL (its touch child holds it), and is reaped once the owner's
// session is gone. Herd only: ZooKeeper reaps TTL nodes once a minute by
// default, and its interval is not the client's to set.
func TestTTLNodeOutlivesTTLWhileOwnerLives(t *testing.T) {
	const ttl = 300 * time.Millisecond
	s := herdtest.Start(t, herdtest.WithExtendedTypes(), herdtest.WithConfig(func(c *server.Config) {
		c.ContainerCheckInterval = 50 * time.Millisecond
	}))
	ctx := recipetest.Ctx(t)
	owner := recipetest.Client(t, s.Addr)
	watcher := recipetest.Client(t, s.Addr)

	n, err := node.NewTTL(owner, "/kept", ttl, []byte("alive"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitForInitialCreate(ctx); err != nil {
		t.Fatal(err)
	}
	recipetest.Eventually(t, "the touch child", func() bool {
		st, err := watcher.Exists(ctx, "/kept/"+node.TouchName)
		return err == nil && st != nil
	})
	// A canary with the same TTL and no child: once it is reaped, the TTL
	// has passed and the reaper has run since.
	if _, err := watcher.Create(ctx, "/canary", nil, framework.WithMode(framework.ModePersistentWithTTL), framework.WithTTL(ttl)); err != nil {
		t.Fatal(err)
	}
	recipetest.Eventually(t, "the canary reaped", func() bool {
		st, err := watcher.Exists(ctx, "/canary")
		return err == nil && st == nil
	})
	if st, err := watcher.Exists(ctx, "/kept"); err != nil || st == nil {
		t.Fatalf("the kept TTL node was reaped while its owner lived: %v, %v", st, err)
	}

	// The owner dies without closing the node: its session ends, the touch
	// child goes with it, and the reaper takes the node after its TTL.
	owner.Close()
	recipetest.Eventually(t, "the TTL node reaped after its owner died", func() bool {
		st, err := watcher.Exists(ctx, "/kept")
		return err == nil && st == nil
	})
}
