package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

// fastReaper runs the container/TTL scan every 20ms.
func fastReaper(c *server.Config) { c.ContainerCheckInterval = 20 * time.Millisecond }

// TestEmptiedContainerIsReaped checks that a container is reaped once emptied (watchers see the delete) and
// never while unused or non-empty.
func TestEmptiedContainerIsReaped(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(fastReaper))
	c := dial(t, s.Addr, wireclient.Options{})
	ctx := testCtx(t)
	for _, p := range []string{"/never", "/used"} {
		if _, err := c.Do(ctx, proto.OpCreateContainer, &proto.CreateRequest{Path: p, ACL: proto.OpenACLUnsafe, Flags: proto.ModeContainer}, &proto.Create2Response{}); err != nil {
			t.Fatalf("createContainer %s: %v", p, err)
		}
	}
	create(t, c, "/used/child", "", proto.ModePersistent)
	w := dial(t, s.Addr, wireclient.Options{})
	exists(t, w, "/used", true)
	children(t, w, "/", true)
	if _, err := c.Do(ctx, proto.OpDelete, &proto.DeleteRequest{Path: "/used/child", Version: -1}, nil); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, w,
		wireclient.Event{Type: proto.EventNodeDeleted, Path: "/used"},
		wireclient.Event{Type: proto.EventNodeChildrenChanged, Path: "/"})
	// The scan that reaped /used saw /never too; a later scan must not take it
	// either.
	s.Server().ReapNow(time.Now().Add(time.Hour))
	if !exists(t, c, "/never", false) {
		t.Fatal("a container that never had a child was reaped")
	}
	// A container with a child is never reaped.
	create(t, c, "/never/kid", "", proto.ModePersistent)
	s.Server().ReapNow(time.Now().Add(time.Hour))
	if !exists(t, c, "/never", false) {
		t.Fatal("a container with a child was reaped")
	}
}

// TestTTLNodeExpires checks that a TTL node goes after its ttl, not before, and not while it has children.
func TestTTLNodeExpires(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithExtendedTypes(), herdtest.WithConfig(fastReaper))
	c := dial(t, s.Addr, wireclient.Options{})
	ctx := testCtx(t)
	createTTL := func(path string, ttl int64) {
		t.Helper()
		req := &proto.CreateTTLRequest{Path: path, ACL: proto.OpenACLUnsafe, Flags: proto.ModePersistentWithTTL, TTL: ttl}
		if _, err := c.Do(ctx, proto.OpCreateTTL, req, &proto.Create2Response{}); err != nil {
			t.Fatalf("createTTL %s: %v", path, err)
		}
	}
	start := time.Now() // /short's mtime is no earlier
	createTTL("/short", 100)
	createTTL("/long", time.Hour.Milliseconds())
	createTTL("/parent", 100)
	create(t, c, "/parent/kid", "", proto.ModePersistent)
	w := dial(t, s.Addr, wireclient.Options{})
	exists(t, w, "/short", true)
	expectEvents(t, w, wireclient.Event{Type: proto.EventNodeDeleted, Path: "/short"})
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("TTL node deleted after %v, before its 100ms ttl", d)
	}
	if !exists(t, c, "/long", false) {
		t.Fatal("TTL node deleted before its ttl")
	}
	// A TTL node with children stays past its ttl.
	s.Server().ReapNow(time.Now().Add(time.Minute))
	if !exists(t, c, "/parent", false) {
		t.Fatal("TTL node with a child was reaped")
	}
	// Once childless it goes.
	exists(t, w, "/parent", true)
	if _, err := c.Do(ctx, proto.OpDelete, &proto.DeleteRequest{Path: "/parent/kid", Version: -1}, nil); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, w, wireclient.Event{Type: proto.EventNodeDeleted, Path: "/parent"})
}

// TestTTLNeedsExtendedTypes checks that createTTL is unimplemented (-6) unless extended types are on.
func TestTTLNeedsExtendedTypes(t *testing.T) {
	s := herdtest.Start(t)
	c := dial(t, s.Addr, wireclient.Options{})
	req := &proto.CreateTTLRequest{Path: "/t", ACL: proto.OpenACLUnsafe, Flags: proto.ModePersistentWithTTL, TTL: 100}
	if _, err := c.Do(testCtx(t), proto.OpCreateTTL, req, nil); !errors.Is(err, proto.ErrUnimplemented) {
		t.Fatalf("createTTL without extended types: %v", err)
	}
}
