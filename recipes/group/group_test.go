package group_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/group"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

func join(t *testing.T, c *framework.Client, path, id string) *group.Member {
	t.Helper()
	m, err := group.NewMember(c, path, id, []byte("payload-"+id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(recipetest.Ctx(t)) })
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.AwaitJoined(recipetest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	return m
}

func ids(m *group.Member) string {
	return fmt.Sprint(slices.Sorted(maps.Keys(m.Members())))
}

// TestGroupMembership: members see each other with their payloads; a member
// whose session expires leaves and comes back; one that closes, or whose
// client closes, leaves.
func TestGroupMembership(t *testing.T) {
	recipetest.SkipReconnectRace(t)
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		path := recipetest.Root(t) + "/members"
		a := join(t, recipetest.Client(t, tg.Addr), path, "a")
		if got := ids(a); got != "[a]" {
			t.Fatalf("alone: %s", got)
		}
		px := recipetest.Proxy(t, tg.Addr)
		cb := recipetest.Client(t, px.Addr())
		b := join(t, cb, path, "b")
		cc := recipetest.Client(t, tg.Addr)
		c := join(t, cc, path, "c")
		for _, m := range []*group.Member{a, b, c} {
			recipetest.Eventually(t, m.ID()+" sees all three", func() bool { return ids(m) == "[a b c]" })
		}
		if got := string(a.Members()["b"]); got != "payload-b" {
			t.Fatalf("b's payload as a sees it: %q", got)
		}
		if err := b.SetPayload(ctx, []byte("new")); err != nil {
			t.Fatal(err)
		}
		recipetest.Eventually(t, "b's new payload", func() bool { return string(a.Members()["b"]) == "new" })

		// b's session expires: b leaves, then joins again on its new session.
		states := recipetest.States(t, cb)
		px.Refuse(true)
		px.Cut()
		recipetest.Expect(t, states, framework.Suspended)
		recipetest.Expire(t, tg.Addr, cb)
		recipetest.Eventually(t, "b gone", func() bool { return ids(a) == "[a c]" })
		if got := ids(b); got != "[a b c]" {
			t.Fatalf("b's own view must still include b: %s", got)
		}
		px.Refuse(false)
		recipetest.Expect(t, states, framework.Lost, framework.Reconnected)
		recipetest.Eventually(t, "b back", func() bool { return ids(a) == "[a b c]" && string(a.Members()["b"]) == "new" })

		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		recipetest.Eventually(t, "c gone after Close", func() bool { return ids(a) == "[a b]" })
		if err := cb.Close(); err != nil {
			t.Fatal(err)
		}
		recipetest.Eventually(t, "b gone with its client", func() bool { return ids(a) == "[a]" })
	})
}

// TestBadArguments: bad ids and paths are errors and create nothing.
func TestBadArguments(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		c := recipetest.Client(t, tg.Addr)
		path := recipetest.Root(t)
		for _, id := range []string{"", "a/b", ".", ".."} {
			if _, err := group.NewMember(c, path, id, nil); !errors.Is(err, group.ErrInvalidID) {
				t.Errorf("NewMember(id %q) = %v", id, err)
			}
		}
		for _, p := range []string{"", "rel", "/", "/a/", "/a//b"} {
			if _, err := group.NewMember(c, p, "x", nil); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("NewMember(path %q) = %v", p, err)
			}
		}
		if st, err := c.Exists(recipetest.Ctx(t), path); st != nil || err != nil {
			t.Errorf("created %s: %v, %v", path, st, err)
		}
	})
}
