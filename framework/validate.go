package framework

import "fmt"

// ValidatePath reports whether p is a znode path ZooKeeper accepts (absolute,
// no empty, "." or ".." components, no trailing slash). The error wraps
// ErrInvalidPath. Recipes call it at construction, so that a bad path is an
// error before any node is created.
func ValidatePath(p string) error {
	if err := validatePath(p); err != nil {
		return fmt.Errorf("%q: %w", p, err)
	}
	return nil
}
