package node

import (
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// TestStaleOwnNodeReplaced: an ephemeral node at our path owned by one of our
// earlier sessions (the client gave that session up; the server still has
// it) is deleted and created again on the current session, instead of being
// adopted and vanishing later.
func TestStaleOwnNodeReplaced(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		c := recipetest.Client(t, tg.Addr)
		old := recipetest.Client(t, tg.Addr) // stands in for the earlier session
		p := recipetest.Root(t)
		if _, err := old.Create(ctx, p, []byte("old"), framework.WithParents(), framework.WithMode(framework.ModeEphemeral)); err != nil {
			t.Fatal(err)
		}
		n, err := New(c, framework.ModeEphemeral, p, []byte("new"))
		if err != nil {
			t.Fatal(err)
		}
		n.actual, n.owners = p, []int64{old.SessionID()}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		defer n.Close(ctx)
		recipetest.Eventually(t, "the node on the current session", func() bool {
			data, st, err := c.Get(ctx, p)
			return err == nil && st.EphemeralOwner == c.SessionID() && string(data) == "new"
		})
	})
}
