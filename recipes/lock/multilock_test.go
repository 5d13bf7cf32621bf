package lock_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/lock"
)

// testMultiLock: all or none. With one path held elsewhere TryLock takes
// nothing; Lock waits and then holds both; Unlock releases both.
func testMultiLock(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	p1, p2 := recipetest.Path(t, "one"), recipetest.Path(t, "two")
	admin := recipetest.Client(t, tg.Addr())
	other := lock.NewMutex(admin, p2)
	if err := other.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	ml := lock.NewMultiLock(recipetest.Client(t, tg.Addr()), []string{p1, p2})
	if err := ml.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock with one path held = %v", err)
	}
	if kids := recipetest.Children(t, admin, p1); len(kids) != 0 || ml.Held() {
		t.Fatalf("after a failed TryLock: %v held on %s, Held %v", kids, p1, ml.Held())
	}
	if err := ml.Unlock(ctx); !errors.Is(err, lock.ErrNotHeld) {
		t.Fatalf("Unlock not held = %v", err)
	}
	res := make(chan error, 1)
	go func() { res <- ml.Lock(ctx) }()
	recipetest.Eventually(t, "multilock waiting on the second path", func() bool {
		return len(recipetest.Children(t, admin, p2)) == 2
	})
	if err := other.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	toks := ml.Tokens()
	if !ml.Held() || recipetest.Closed(ml.Lost()) || slices.Contains(toks, 0) {
		t.Fatalf("held %v lost %v tokens %v", ml.Held(), recipetest.Closed(ml.Lost()), toks)
	}
	lost := ml.Lost()
	if err := ml.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if !recipetest.Closed(lost) {
		t.Fatal("Lost open after Unlock")
	}
	for _, p := range []string{p1, p2} {
		if kids := recipetest.Children(t, admin, p); len(kids) != 0 {
			t.Fatalf("%s left %v", p, kids)
		}
	}
}
