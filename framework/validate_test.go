package framework_test

import (
	"errors"
	"testing"

	"github.com/herd-io/herd/framework"
)

func TestValidatePath(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b-c/_d"} {
		if err := framework.ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/.."} {
		if err := framework.ValidatePath(p); !errors.Is(err, framework.ErrInvalidPath) {
			t.Errorf("ValidatePath(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
}
