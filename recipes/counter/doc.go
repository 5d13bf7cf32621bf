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

// checkPath refuses a path no counter can live at, before any request.
func checkPath(p string) error {
	if err := framework.ValidatePath(p); err != nil {
		return fmt.Errorf("counter: %w", err)
	}
	if p == "/" {
		return fmt.Errorf("counter: %w: / cannot hold a counter", framework.ErrInvalidPath)
	}
	return nil
}
