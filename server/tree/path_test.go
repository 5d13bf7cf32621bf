package tree

import (
	"errors"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

func TestValidatePath(t *testing.T) {
	cases := []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/a", true},
		{"/a/b/c", true},
		{"/a.b", true},
		{"/.a", true},
		{"/a.", true},
		{"/...", true},
		{"/a/..b", true},
		{"/é", true},
		{"/\u4e2d\u6587", true},
		{"/\ufffd_not", false},
		{"", false},
		{"a", false},
		{"a/b", false},
		{"/a/", false},
		{"//", false},
		{"//a", false},
		{"/a//b", false},
		{"/.", false},
		{"/..", false},
		{"/a/.", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/a\x00", false},
		{"/a\x01", false},
		{"/a\x1f", false},
		{"/a\x7f", false},
		{"/a\u0085", false},
		{"/a\u009f", false},
		{"/a\u00a0", true},
		{"/a\ue000", false},
		{"/a\uf8ff", false},
		{"/a\uf900", true},
		{"/a\ufff0", false},
		{"/a\uffff", false},
		{"/\U0001F600", false},
		{"/a\xff", false}, // invalid UTF-8 decodes to U+FFFD in Java
		{"/a ", true},
	}
	for _, c := range cases {
		err := ValidatePath(c.path)
		if (err == nil) != c.ok {
			t.Errorf("ValidatePath(%q) = %v, want ok=%v", c.path, err, c.ok)
		}
		if err != nil && !errors.Is(err, proto.ErrBadArguments) {
			t.Errorf("ValidatePath(%q) = %v, not ErrBadArguments", c.path, err)
		}
	}
}

func TestSplitParent(t *testing.T) {
	cases := []struct{ path, parent, name string }{
		{"/a", "", "a"},
		{"/a/b", "/a", "b"},
		{"/a/", "/a", ""},
	}
	for _, c := range cases {
		p, n, ok := splitParent(c.path)
		if !ok || p != c.parent || n != c.name {
			t.Errorf("splitParent(%q) = %q, %q, %v", c.path, p, n, ok)
		}
	}
	for _, bad := range []string{"a", "", "/a\x00"} {
		if _, _, ok := splitParent(bad); ok {
			t.Errorf("splitParent(%q) ok", bad)
		}
	}
}
