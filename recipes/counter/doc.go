// Package counter holds Apache Curator's shared counters on herd's framework:
// SharedCount (a 32-bit count that every participant watches, with versioned
// updates) and AtomicLong (Curator's DistributedAtomicLong: a 64-bit counter
// updated optimistically, falling back to a lock under contention). Both use
// Curator's exact encodings, so Curator (and kazoo's Counter with
// support_curator=True, for SharedCount) share a counter with Go processes.
//
// # Layout
//
//	SharedCount:  <path>             data = 4-byte big-endian int32
//	AtomicLong:   <path>             data = 8-byte big-endian int64 (missing or empty = 0)
//	              <path>-lock/_c_<uuid>-lock-<seq>   the promotion lock (InterProcessMutex layout),
//	                                                 only while a promoted update runs
//
// Parents are created as containers, as Curator does.
package counter

import (
	"errors"
	"fmt"
	"strings"

	"github.com/herd-io/herd/framework"
)

// ErrCorrupt reports node data that is not a counter of the expected size.
var ErrCorrupt = errors.New("counter: corrupt data")

// ErrNotStarted is returned by SharedCount operations before Start.
var ErrNotStarted = errors.New("counter: not started")

// ErrClosed is returned by operations on a closed SharedCount.
var ErrClosed = errors.New("counter: closed")

// ErrGaveUp is returned by AtomicLong updates that lost every optimistic (and
// promoted) attempt to other writers; nothing was written.
var ErrGaveUp = errors.New("counter: gave up under contention")

// validatePath applies ZooKeeper's path rules without touching the server.
func validatePath(p string) error {
	switch {
	case p == "" || p[0] != '/':
		return fmt.Errorf("%w: %q is not absolute", framework.ErrInvalidPath, p)
	case p == "/":
		return fmt.Errorf("%w: a counter cannot live at /", framework.ErrInvalidPath)
	case strings.HasSuffix(p, "/") || strings.Contains(p, "//"):
		return fmt.Errorf("%w: %q has an empty component", framework.ErrInvalidPath, p)
	}
	for _, part := range strings.Split(p[1:], "/") {
		if part == "." || part == ".." {
			return fmt.Errorf("%w: %q has a relative component", framework.ErrInvalidPath, p)
		}
	}
	return nil
}
