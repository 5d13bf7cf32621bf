package contend_test

import (
	"errors"
	"testing"

	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/contend"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// testForeignOwner: a node that heads the order but belongs to another
// session than the one the Node names (CURATOR-696: a node of an older
// session) is never reported as a hold, waiting or trying; a node of its
// own session is, with its creation zxid as the token.
func testForeignOwner(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	a, b := recipetest.Client(t, tg.Addr()), recipetest.Client(t, tg.Addr())
	k := contend.Contender{Client: a, Dir: recipetest.Path(t, "lock"), Name: "lock-", Rule: contend.First}
	n, err := k.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own := *n
	other, err := b.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	foreign := own
	foreign.Session = other
	for _, try := range []bool{false, true} {
		if _, err := k.Wait(ctx, &foreign, try); !errors.Is(err, contend.ErrGone) {
			t.Fatalf("Wait(try %v) on a node owned by another session = %v, want ErrGone", try, err)
		}
		st, err := k.Wait(ctx, &own, try)
		if err != nil {
			t.Fatalf("Wait(try %v) on our own node: %v", try, err)
		}
		want, err := a.Exists(ctx, own.Path)
		if err != nil || st.Czxid != want.Czxid || st.Czxid == 0 {
			t.Fatalf("hold token %d, node's czxid %v (%v)", st.Czxid, want, err)
		}
	}
	if err := k.Remove(ctx, n); err != nil {
		t.Fatal(err)
	}
}
