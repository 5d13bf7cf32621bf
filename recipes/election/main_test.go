package election_test

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
		{Name: "LatchElectsOne", Run: testLatchElectsOne},
		{Name: "LatchSuspendedAndBack", Run: testLatchSuspended},
		{Name: "LatchSessionExpired", Run: testLatchExpired},
		{Name: "LatchLifecycle", Run: testLatchLifecycle},
		{Name: "SelectorOneLeaderAtATime", Run: testSelectorOneAtATime},
		{Name: "SelectorLeaderConnectionCut", Run: testSelectorCut},
		{Name: "SelectorLeaderPartitioned", Run: testSelectorPartitioned},
		{Name: "SelectorLeaderSessionExpired", Run: testSelectorExpired},
		{Name: "SelectorSingleTerm", Run: testSelectorSingleTerm},
		{Name: "BadArguments", Run: testBadArguments},
	})
}
