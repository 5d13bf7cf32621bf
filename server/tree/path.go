package tree

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/herd-io/herd/server/proto"
)

// ValidatePath applies ZooKeeper's PathUtils.validatePath: an absolute path
// with no empty, "." or ".." segments, no trailing slash (except "/") and no
// characters ZooKeeper forbids (controls, U+007F–U+009F, U+D800–U+F8FF, which
// rules out every non-BMP character, and U+FFF0–U+FFFF). It returns an error
// matching proto.ErrBadArguments.
func ValidatePath(path string) error {
	if reason := pathProblem(path); reason != "" {
		return fmt.Errorf("path %q: %s: %w", path, reason, proto.ErrBadArguments)
	}
	return nil
}

// pathProblem returns why path is invalid, or "". Java works on UTF-16 units;
// '/', '.' and NUL are ASCII, so scanning UTF-8 bytes for them is equivalent,
// and invalid UTF-8 decodes to U+FFFD, which Java rejects too.
func pathProblem(path string) string {
	switch {
	case path == "":
		return "empty path"
	case path[0] != '/':
		return "must start with /"
	case len(path) == 1:
		return ""
	case path[len(path)-1] == '/':
		return "must not end with /"
	}
	last := rune('/')
	for i, c := range path[1:] {
		i++ // index into path
		switch {
		case c == 0:
			return "null character"
		case c == '/' && last == '/':
			return "empty node name"
		case c == '.' && last == '.':
			if path[i-2] == '/' && (i+1 == len(path) || path[i+1] == '/') {
				return "relative path"
			}
		case c == '.':
			if path[i-1] == '/' && (i+1 == len(path) || path[i+1] == '/') {
				return "relative path"
			}
		case badRune(c):
			return "invalid character"
		}
		last = c
	}
	return ""
}

func badRune(c rune) bool {
	return c > 0 && c <= 0x1f || c >= 0x7f && c <= 0x9f || c >= 0xd800 && c <= 0xf8ff ||
		c >= 0xfff0 || c == utf8.RuneError
}

// isSystemPath reports the built-in nodes that cannot be deleted.
func isSystemPath(path string) bool {
	return path == rootPath || path == zkPath || path == quotaPath || path == configPath
}

// splitParent returns the parent path and the last name as ZooKeeper does
// (substring before the last '/'; "" stands for the root). ok is false when
// path has no '/' or holds a NUL.
func splitParent(path string) (parent, name string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 || strings.IndexByte(path, 0) >= 0 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// parentOf returns the parent of a valid, non-root path ("/" for top level).
func parentOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return rootPath
	}
	return path[:i]
}

// sortedNames returns a sorted copy of names.
func sortedNames(names []string) []string {
	out := slices.Clone(names)
	if out == nil {
		out = []string{}
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
