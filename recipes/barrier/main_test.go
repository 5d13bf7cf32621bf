package barrier_test

import (
	"context"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// tick gives sessions between 400 ms and 4 s on both targets.
const tick = 200 * time.Millisecond

func TestMain(m *testing.M) { recipetest.Main(m, recipetest.WithTick(tick)) }

// eachTarget runs f against an in-process herd (its own) and the shared ZooKeeper.
func eachTarget(t *testing.T, f func(t *testing.T, addr string)) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) { f(t, tg.Addr) })
}

func testCtx(t testing.TB) context.Context { return recipetest.Ctx(t) }

// newClient connects to addr with a short session and closes at test end.
func newClient(t testing.TB, addr string, opts ...framework.Option) *framework.Client {
	t.Helper()
	return recipetest.Client(t, addr, append([]framework.Option{framework.WithSessionTimeout(4 * time.Second)}, opts...)...)
}

// testPath is a path of the test's own on a shared server (also under -count).
func testPath(t testing.TB) string { return recipetest.Root(t) }
