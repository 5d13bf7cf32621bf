package node_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/node"
)

// TestPersistentNodeModes: in each mode the node is created, re-created
// under the same name after someone deletes it, takes new data, and is
// deleted by Close.
func TestPersistentNodeModes(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		for _, tc := range []struct {
			name    string
			mode    framework.CreateMode
			protect bool
		}{
			{"ephemeral", framework.ModeEphemeral, false},
			{"protected-ephemeral-sequential", framework.ModeEphemeralSequential, true},
			{"persistent", framework.ModePersistent, false},
			{"persistent-sequential", framework.ModePersistentSequential, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := recipetest.Ctx(t)
				c := recipetest.Client(t, tg.Addr)
				other := recipetest.Client(t, tg.Addr)
				base := recipetest.Root(t) + "/parents/n-"
				var opts []node.Option
				if tc.protect {
					opts = append(opts, node.WithProtection())
				}
				n, err := node.New(c, tc.mode, base, []byte("v1"), opts...)
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Start(); err != nil {
					t.Fatal(err)
				}
				if err := n.WaitForInitialCreate(ctx); err != nil {
					t.Fatal(err)
				}
				p := n.Path()
				_, name := framework.SplitPath(p)
				if tc.protect != framework.IsProtectedName(name) {
					t.Fatalf("path %s: protected name %v, want %v", p, !tc.protect, tc.protect)
				}
				if seq := name[max(0, len(name)-10):]; tc.mode.Sequential() && strings.Trim(seq, "0123456789") != "" {
					t.Fatalf("path %s: no sequence number", p)
				}
				data, st, err := other.Get(ctx, p)
				if err != nil || string(data) != "v1" {
					t.Fatalf("Get(%s) = %q, %v", p, data, err)
				}
				if tc.mode.Ephemeral() != (st.EphemeralOwner == c.SessionID()) {
					t.Fatalf("ephemeral owner %#x, session %#x, mode %d", st.EphemeralOwner, c.SessionID(), tc.mode)
				}
				czxid := st.Czxid
				if err := other.Delete(ctx, p); err != nil {
					t.Fatal(err)
				}
				recipetest.Eventually(t, "re-created under the same name", func() bool {
					st, err := other.Exists(ctx, p)
					return err == nil && st != nil && st.Czxid != czxid
				})
				if n.Path() != p {
					t.Fatalf("path changed from %s to %s", p, n.Path())
				}
				if err := n.SetData(ctx, []byte("v2")); err != nil {
					t.Fatal(err)
				}
				if data, _, _ := other.Get(ctx, p); string(data) != "v2" {
					t.Fatalf("data after SetData = %q", data)
				}
				if err := n.Close(ctx); err != nil {
					t.Fatal(err)
				}
				if st, err := other.Exists(ctx, p); st != nil || err != nil {
					t.Fatalf("after Close: %v, %v", st, err)
				}
			})
		}
	})
}

// TestEphemeralNodeBackAfterExpiry: the server expires the session; the node
// comes back on the new session with the same name and data.
func TestEphemeralNodeBackAfterExpiry(t *testing.T) {
	recipetest.SkipReconnectRace(t)
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		px := recipetest.Proxy(t, tg.Addr)
		c := recipetest.Client(t, px.Addr())
		other := recipetest.Client(t, tg.Addr)
		states := recipetest.States(t, c)
		n, err := node.New(c, framework.ModeEphemeralSequential, recipetest.Root(t)+"/member-", []byte("me"), node.WithProtection())
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close(ctx)
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		if err := n.WaitForInitialCreate(ctx); err != nil {
			t.Fatal(err)
		}
		p, old := n.Path(), c.SessionID()
		px.Refuse(true)
		px.Cut()
		recipetest.Expect(t, states, framework.Suspended)
		recipetest.Expire(t, tg.Addr, c)
		if st, err := other.Exists(ctx, p); st != nil || err != nil {
			t.Fatalf("node still there after expiry: %v, %v", st, err)
		}
		px.Refuse(false)
		recipetest.Expect(t, states, framework.Lost, framework.Reconnected)
		recipetest.Eventually(t, "the node back on the new session", func() bool {
			data, st, err := other.Get(ctx, p)
			return err == nil && string(data) == "me" && st.EphemeralOwner == c.SessionID() && st.EphemeralOwner != old
		})
	})
}

// TestTTLNode: the node and its touch child exist with the TTL; Close removes
// both.
func TestTTLNode(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		c := recipetest.Client(t, tg.Addr)
		p := recipetest.Root(t) + "/ttl"
		n, err := node.NewTTL(c, p, 20*time.Second, []byte("alive"))
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
			st, err := c.Exists(ctx, p+"/"+node.TouchName)
			return err == nil && st != nil
		})
		if data, st, err := c.Get(ctx, p); err != nil || string(data) != "alive" || st.EphemeralOwner != 0 {
			t.Fatalf("Get(%s) = %q, %+v, %v", p, data, st, err)
		}
		if err := n.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if st, err := c.Exists(ctx, p); st != nil || err != nil {
			t.Fatalf("after Close: %v, %v", st, err)
		}
	})
}

// TestBadArguments: bad paths and modes are errors and create nothing.
func TestBadArguments(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		c := recipetest.Client(t, tg.Addr)
		for _, p := range []string{"", "x", "/", "/a/", "/a//b"} {
			if _, err := node.New(c, framework.ModeEphemeral, p, nil); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("New(%q) = %v", p, err)
			}
		}
		p := recipetest.Root(t)
		if _, err := node.New(c, framework.ModeContainer, p, nil); err == nil {
			t.Error("container mode: no error")
		}
		if _, err := node.New(c, framework.ModePersistentWithTTL, p, nil); err == nil {
			t.Error("TTL mode without WithTTL: no error")
		}
		if _, err := node.New(c, framework.ModeEphemeral, p, nil, node.WithTTL(time.Second)); err == nil {
			t.Error("WithTTL on an ephemeral mode: no error")
		}
		if _, err := node.NewTTL(c, p, 0, nil); err == nil {
			t.Error("NewTTL with 0: no error")
		}
		n, _ := node.New(c, framework.ModeEphemeral, p, nil)
		_ = n.Close(recipetest.Ctx(t))
		if err := n.Start(); !errors.Is(err, node.ErrClosed) {
			t.Errorf("Start after Close = %v", err)
		}
		if st, err := c.Exists(recipetest.Ctx(t), p); st != nil || err != nil {
			t.Errorf("created %s: %v, %v", p, st, err)
		}
	})
}
