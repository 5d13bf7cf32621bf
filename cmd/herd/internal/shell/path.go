package shell

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/herd-io/herd/server/proto"
)

// errBadPath marks a path the Java client refuses before sending it
// (PathUtils.validatePath). It wraps proto.ErrBadArguments, the code a
// server answers for the same path, so -o json reports BADARGUMENTS.
var errBadPath = fmt.Errorf("bad path: %w", proto.ErrBadArguments)

// validatePath checks path as the Java client does before any request, and
// returns zkCli's message for a bad one. A sequential create may end in "/"
// (the server appends the number), as validatePath(path, true) allows.
func validatePath(path string, sequential bool) error {
	if sequential {
		path += "1"
	}
	if msg := pathProblem(path); msg != "" {
		return &cliError{msg: msg, err: errBadPath}
	}
	return nil
}

// pathProblem is PathUtils.validatePath's message for path, or "". Java
// indexes UTF-16 code units, so the "@i" positions are counted in those.
func pathProblem(path string) string {
	switch {
	case path == "":
		return "Path length must be > 0"
	case path[0] != '/':
		return "Path must start with / character"
	case path == "/":
		return ""
	case strings.HasSuffix(path, "/"):
		return "Path must not end with / character"
	}
	units := utf16.Encode([]rune(path))
	reason := ""
	for i := 1; i < len(units) && reason == ""; i++ {
		c, last := units[i], units[i-1]
		relative := func() bool { return i+1 == len(units) || units[i+1] == '/' }
		switch {
		case c == 0:
			reason = fmt.Sprintf("null character not allowed @%d", i)
		case c == '/' && last == '/':
			reason = fmt.Sprintf("empty node name specified @%d", i)
		case c == '.' && last == '.':
			if units[i-2] == '/' && relative() {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c == '.':
			if last == '/' && relative() {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			reason = fmt.Sprintf("invalid character @%d", i)
		}
	}
	if reason == "" {
		return ""
	}
	return fmt.Sprintf("Invalid path string \"%s\" caused by %s", path, reason)
}

// splitChroot returns the chroot of a connect string ("host:port,.../chroot"),
// "" when it has none or only "/", and zkCli's message for an invalid one.
func splitChroot(servers string) (chroot string, err error) {
	i := strings.IndexByte(servers, '/')
	if i < 0 || servers[i:] == "/" {
		return "", nil
	}
	chroot = servers[i:]
	if msg := pathProblem(chroot); msg != "" {
		return chroot, &cliError{msg: "Invalid chroot " + chroot + " in " + servers + ": " + msg, err: errBadChroot}
	}
	return chroot, nil
}
