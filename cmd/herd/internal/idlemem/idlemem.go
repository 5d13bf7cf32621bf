// Package idlemem gives a herd server's spare heap back to the system when
// its writes pause.
//
// Go lets the heap grow to twice what the last collection left live
// (GOGC=100), and returns the memory a burst of writes freed only over
// minutes. For a tree of a million znodes that is a few hundred megabytes
// of RSS held after the burst is over: 544 MB three seconds after 1M
// creates, 332 MB four minutes later. A Returner watches the allocation
// rate; once it has been quiet for a second while much more heap is held
// than is live, it collects and returns the free memory at once
// (debug.FreeOSMemory), as JEP 346 lets Java's G1 do for an idle program.
//
// It changes nothing while writes flow: the collector's pace, and so the
// peak RSS of a burst, stays Go's. Bursts with pauses between them would
// each end in a collection; returns that come close together therefore
// space themselves out, up to ten minutes apart. A heap with less than
// MinSpare to give back is left alone, so a small server seldom collects
// because of it.
package idlemem

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"go.uber.org/zap"
)

const (
	// MinSpare is the least heap held beyond the live heap that is worth a
	// collection to return.
	MinSpare = 64 << 20
	// pollEvery is how often a Returner looks at the heap, and quietPolls
	// how many intervals in a row must be quiet before it returns memory.
	pollEvery  = 500 * time.Millisecond
	quietPolls = 2
	// minGap is the least time between two returns, whatever the readings
	// say: a bound on the collector CPU a Returner can spend. A return that
	// comes within closeGaps waits of the one before (bursts with pauses
	// between them) doubles the wait, up to maxGap; one after a longer calm
	// sets it back to minGap.
	minGap    = 5 * time.Second
	maxGap    = 10 * time.Minute
	closeGaps = 4
	// quietShare: a poll interval is quiet when less than live/quietShare
	// was allocated in it (under 1 MB for a 283 MB heap, a few hundred
	// small writes).
	quietShare = 512
)

// Heap is what a Returner reads of the runtime, all in bytes.
type Heap struct {
	// Live is what the last collection marked live.
	Live uint64
	// Objects is the heap's objects: the live ones and those dead but not
	// yet swept.
	Objects uint64
	// Free is heap memory free and backed by physical memory: what a
	// collection's sweep and a scavenge can give back. (Space unused inside
	// partly full spans cannot be, so it is not counted.)
	Free uint64
	// Allocated is the cumulative total allocated.
	Allocated uint64
	// Off is whether the collector is off (GOGC=off or negative, or
	// debug.SetGCPercent(-1)): a Returner then leaves the heap alone, as a
	// collection would override the operator.
	Off bool
}

// spare is at most what a collection and a scavenge would return: objects
// allocated since the last collection count as dead until one marks them.
func (h Heap) spare() uint64 {
	dead := uint64(0)
	if h.Objects > h.Live {
		dead = h.Objects - h.Live
	}
	return dead + h.Free
}

// ShouldReturn reports whether, between the readings prev and now taken one
// poll interval apart, the heap was quiet and held enough beyond what is
// live to be worth a collection.
func ShouldReturn(prev, now Heap) bool {
	if now.Off || now.Live == 0 || now.Allocated < prev.Allocated {
		return false
	}
	quiet := now.Allocated-prev.Allocated < now.Live/quietShare
	return quiet && now.spare() >= worthReturning(now.Live)
}

// worthReturning is the least spare worth a collection for a live heap.
func worthReturning(live uint64) uint64 { return max(MinSpare, live/4) }

// A Returner returns spare heap to the system when the server is quiet. Make
// one with New.
type Returner struct {
	log *zap.Logger
	// every is the poll interval and gap the least time between returns;
	// read and free are the runtime's. Tests replace them.
	every, gap time.Duration
	read       func() Heap
	free       func()
}

// nextWait is the wait after a return made sinceLast after the one before,
// while the wait was wait: twice as long (at most maxGap) when the two came
// within closeGaps waits, else the base gap.
func nextWait(wait, gap, sinceLast time.Duration) time.Duration {
	if sinceLast >= closeGaps*wait {
		return gap
	}
	return min(2*wait, max(maxGap, gap))
}

// New returns a Returner of the runtime's heap.
func New(log *zap.Logger) *Returner {
	return &Returner{log: log, every: pollEvery, gap: minGap, read: readRuntime, free: debug.FreeOSMemory}
}

// Run watches the heap until ctx is done.
func (r *Returner) Run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	prev := r.read()
	var last time.Time // of the last return; zero before one
	wait, quiet := r.gap, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := r.read()
		if ShouldReturn(prev, now) {
			quiet++
		} else {
			quiet = 0
		}
		if quiet >= quietPolls && time.Since(last) >= wait {
			spare := now.spare()
			start := time.Now()
			if !last.IsZero() {
				wait = nextWait(wait, r.gap, start.Sub(last))
			}
			last = start
			r.free()
			now = r.read() // the collection's own allocation is not the server's
			quiet = 0
			r.log.Debug("returned idle memory", zap.Uint64("liveHeap", now.Live),
				zap.Uint64("spareBefore", spare), zap.Uint64("spareAfter", now.spare()),
				zap.Duration("took", time.Since(start)), zap.Duration("nextAfter", wait))
		}
		prev = now
	}
}

// readRuntime reads the heap from runtime/metrics; zeros if this Go lacks a
// metric, which ShouldReturn takes as "leave it".
func readRuntime() Heap {
	s := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/gc/gogc:percent"},
	}
	metrics.Read(s)
	var v [5]uint64
	for i := range s {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return Heap{}
		}
		v[i] = s[i].Value.Uint64()
	}
	// The percentage is a uint64 metric holding a negative int when off.
	return Heap{Live: v[0], Allocated: v[1], Objects: v[2], Free: v[3], Off: int64(v[4]) < 0}
}
