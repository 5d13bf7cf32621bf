package framework

import (
	"fmt"
	"path"
	"strings"
)

// validatePath checks the rules ZooKeeper enforces on an absolute path. The
// caller names the path in its wrapping.
func validatePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: empty", ErrInvalidPath)
	case p[0] != '/':
		return fmt.Errorf("%w: not absolute", ErrInvalidPath)
	case p == "/":
		return nil
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("%w: ends with /", ErrInvalidPath)
	case strings.Contains(p, "//"):
		return fmt.Errorf("%w: empty component", ErrInvalidPath)
	}
	for _, part := range strings.Split(p[1:], "/") {
		if part == "." || part == ".." {
			return fmt.Errorf("%w: relative component", ErrInvalidPath)
		}
	}
	return nil
}

// JoinPath joins a parent path and child names into a znode path.
func JoinPath(parent string, names ...string) string {
	return path.Join(append([]string{parent}, names...)...)
}

// SplitPath returns the parent path and the last component of p.
func SplitPath(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/", p[i+1:]
	}
	return p[:i], p[i+1:]
}

// fix turns a user path into the server path under namespace ns.
func fix(ns, p string) string {
	if ns == "" {
		return p
	}
	if p == "/" {
		return ns
	}
	return ns + p
}

// unfix turns a server path back into a path relative to namespace ns.
func unfix(ns, p string) string {
	if ns == "" {
		return p
	}
	if p == ns {
		return "/"
	}
	if strings.HasPrefix(p, ns+"/") {
		return p[len(ns):]
	}
	return p
}
