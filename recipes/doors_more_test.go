package recipes_test

import (
	"errors"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes"
)

// TestMoreDoorsRefuseBadArguments: the doors of issue #14's recipes pass
// errors through and create nothing (no client, no server needed).
func TestMoreDoorsRefuseBadArguments(t *testing.T) {
	c, err := framework.New("127.0.0.1:1", framework.WithConnectionTimeout(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checks := map[string]error{}
	_, checks["NewTreeCache"] = recipes.NewTreeCache(c, "bad")
	_, checks["NewNodeCache"] = recipes.NewNodeCache(c, "bad")
	_, checks["NewSharedCount"] = recipes.NewSharedCount(c, "bad", 0)
	_, checks["NewAtomicLong"] = recipes.NewAtomicLong(c, "bad")
	_, checks["NewGroupMember"] = recipes.NewGroupMember(c, "bad", "id", nil)
	_, checks["NewPersistentNode"] = recipes.NewPersistentNode(c, framework.ModeEphemeral, "bad", nil)
	_, checks["NewPersistentTTLNode"] = recipes.NewPersistentTTLNode(c, "bad", time.Second, nil)
	_, checks["NewServiceDiscovery"] = recipes.NewServiceDiscovery(c, "bad")
	for door, err := range checks {
		if !errors.Is(err, framework.ErrInvalidPath) {
			t.Errorf("%s(bad path) = %v, want ErrInvalidPath", door, err)
		}
	}
}
