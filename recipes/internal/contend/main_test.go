package contend_test

import (
	"testing"

	"github.com/herd-io/herd/recipes/internal/recipetest"
)

func TestMain(m *testing.M) { recipetest.Main(m) }

// TestSuite runs the contender's behaviour tests against herd and Apache
// ZooKeeper.
func TestSuite(t *testing.T) {
	recipetest.Suite(t, []recipetest.Case{
		{Name: "ForeignOwnerIsNeverAHold", Run: testForeignOwner},
	})
}
