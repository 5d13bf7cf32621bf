package discovery_test

import (
	"testing"

	"github.com/herd-io/herd/recipes/internal/recipetest"
)

func TestMain(m *testing.M) { recipetest.Main(m) }
