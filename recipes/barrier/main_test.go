package barrier_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/internal/zkpeer"
)

// tick gives sessions between 400 ms and 4 s on both targets.
const tick = 200 * time.Millisecond

// One Apache ZooKeeper serves every test of the package: a JVM per test
// would make the suite slow. Tests use paths of their own.
var zookeeper = zkpeer.Shared{Options: zkpeer.Options{TickTime: int(tick / time.Millisecond)}}

func TestMain(m *testing.M) {
	code := m.Run()
	zookeeper.Stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// eachTarget runs f against an in-process herd (its own) and the shared ZooKeeper.
func eachTarget(t *testing.T, f func(t *testing.T, addr string)) {
	t.Run("herd", func(t *testing.T) { f(t, testtarget.Herd(t, tick).Addr()) })
	t.Run("zookeeper", func(t *testing.T) { f(t, zookeeper.Addr(t)) })
}

// wait bounds anything a test waits for.
const wait = 30 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// newClient connects to addr with a short session and closes at test end.
func newClient(t testing.TB, addr string, opts ...framework.Option) *framework.Client {
	t.Helper()
	base := []framework.Option{
		framework.WithSessionTimeout(4 * time.Second),
		framework.WithConnectionTimeout(5 * time.Second),
		framework.WithRetryPolicy(framework.RetryNTimes(20, 50*time.Millisecond)),
		framework.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))),
	}
	c, err := framework.New(addr, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.BlockUntilConnected(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

// testPath is a path of the test's own on a shared server (also under -count).
func testPath(t testing.TB) string {
	return fmt.Sprintf("/%s-%d", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), runs.Add(1))
}

var runs atomic.Int64

var _ = herdtest.Start
