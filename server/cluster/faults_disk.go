package cluster

import (
	"time"

	"github.com/herd-io/herd/server/storage"
)

// SlowDisk makes every fsync of the node's Raft log take at least d longer,
// as a saturated or failing disk does, until SlowDisk(0). It takes effect
// for nodes opened with these Faults (Config.Faults).
func (f *Faults) SlowDisk(d time.Duration) { f.fsyncDelay.Store(int64(d)) }

// storageHook is the storage.Options.FailWrite hook of a node: the test's
// own hook (next, may be nil) behind the slow-disk delay.
func (f *Faults) storageHook(next func(storage.Fault, string) error) func(storage.Fault, string) error {
	if f == nil {
		return next
	}
	return func(op storage.Fault, file string) error {
		if op == storage.FaultSync {
			if d := time.Duration(f.fsyncDelay.Load()); d > 0 {
				time.Sleep(d) // the fault itself: a disk that answers late
			}
		}
		if next != nil {
			return next(op, file)
		}
		return nil
	}
}
