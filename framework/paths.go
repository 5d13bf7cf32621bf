package framework

import (
	"fmt"
	"path"
	"strings"
)

// validatePath checks the rules ZooKeeper enforces on an absolute path.
func validatePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: empty", ErrInvalidPath)
	case p[0] != '/':
		return fmt.Errorf("%w: %q is not absolute", ErrInvalidPath, p)
	case p == "/":
		return nil
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("%w: %q ends with /", ErrInvalidPath, p)
	case strings.Contains(p, "//"):
		return fmt.Errorf("%w: %q has an empty component", ErrInvalidPath, p)
	}
	for _, part := range strings.Split(p[1:], "/") {
		if part == "." || part == ".." {
			return fmt.Errorf("%w: %q has a relative component", ErrInvalidPath, p)
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
