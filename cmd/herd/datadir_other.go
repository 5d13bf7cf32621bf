//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import (
	"errors"
	"os"
)

// errLocked is never returned here: this platform has no flock, and the log
// store's own lock is the only guard.
var errLocked = errors.New("locked")

func tryLock(*os.File) error { return nil }
