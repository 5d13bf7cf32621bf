package lock_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/herd-io/herd/recipes/internal/recipetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSuite runs every behaviour test against herd and Apache ZooKeeper, one
// server of each for the whole suite.
func TestSuite(t *testing.T) {
	recipetest.Suite(t, []recipetest.Case{
		{Name: "MutualExclusion", Run: testMutualExclusion},
		{Name: "TryLock", Run: testTryLock},
		{Name: "SharedValueExcludesGoroutines", Run: testSharedValue},
		{Name: "Reentrant", Run: testReentrant},
		{Name: "CancelledWaitersLeaveNoNodes", Run: testCancelledWaiters},
		{Name: "NoHerdEffect", Run: testNoHerdEffect},
		{Name: "PartitionedHolderLosesFirst", Run: testPartitionedHolder},
		{Name: "ExpiredHolder", Run: testExpiredHolder},
		{Name: "ExpiredWaiterRejoins", Run: testExpiredWaiter},
		{Name: "LostCreateReplyLeavesOneNode", Run: testLostCreateReply},
		{Name: "ClosedClient", Run: testClosedClient},
		{Name: "RWReadersShareWritersExclude", Run: testRWSharing},
		{Name: "RWLimitsUnderContention", Run: testRWContention},
		{Name: "RWDowngrade", Run: testRWDowngrade},
		{Name: "RWWatchesLastWriter", Run: testRWWatches},
		{Name: "SemaphoreLimit", Run: testSemaphoreLimit},
		{Name: "SemaphoreAcquireN", Run: testSemaphoreAcquireN},
		{Name: "SemaphoreCancelledWaiter", Run: testSemaphoreCancelled},
		{Name: "MultiLockAllOrNone", Run: testMultiLock},
		{Name: "BadArguments", Run: testBadArguments},
		{Name: "RequestsPerCycle", Run: testRequestsPerCycle},
	})
}
