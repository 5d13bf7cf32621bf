package queue

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/server"
)

// tick gives sessions between 400 ms and 4 s on both targets.
const tick = 200 * time.Millisecond

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChildConsumer(spec)) // a consumer for TestWorkQueueKilledConsumer
	}
	// herd reaps empty containers every 50 ms, so the recipes are tested
	// against their directories vanishing under them.
	recipetest.Main(m, recipetest.WithTick(tick), recipetest.WithHerd(herdtest.WithConfig(func(c *server.Config) {
		c.ContainerCheckInterval = 50 * time.Millisecond
	})))
}

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

// eventually polls an observable condition until it holds or recipetest.Wait passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	recipetest.Eventually(t, what, cond)
}

// newProxy puts a fault proxy in front of addr for the test.
func newProxy(t testing.TB, addr string) *faultproxy.Proxy {
	t.Helper()
	return recipetest.Proxy(t, addr)
}

// children lists p's children, none if p does not exist.
func children(t testing.TB, c *framework.Client, p string) []string {
	t.Helper()
	return recipetest.Children(t, c, p)
}
