package idlemem

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const mib = 1 << 20

func TestShouldReturn(t *testing.T) {
	live := uint64(300 * mib)
	prev := Heap{Live: live, Objects: live, Allocated: 1000 * mib}
	quietly := func(h Heap) Heap { h.Allocated = prev.Allocated + live/quietShare - 1; return h }
	for _, c := range []struct {
		name string
		now  Heap
		want bool
	}{
		{"quiet, a burst's garbage unswept", quietly(Heap{Live: live, Objects: 2 * live}), true},
		{"quiet, swept but not returned", quietly(Heap{Live: live, Objects: live, Free: live / 2}), true},
		{"quiet, a quarter of live spare", quietly(Heap{Live: live, Objects: live + live/4}), true},
		{"quiet, less than a quarter spare", quietly(Heap{Live: live, Objects: live + live/5}), false},
		{"quiet, small heap under MinSpare", quietly(Heap{Live: 8 * mib, Objects: 8 * mib, Free: 60 * mib}), false},
		{"busy", Heap{Live: live, Objects: 2 * live, Allocated: prev.Allocated + live/quietShare}, false},
		{"no collection yet", quietly(Heap{Objects: 2 * live}), false},
		{"collector off", quietly(Heap{Live: live, Objects: 2 * live, Off: true}), false},
		{"counter went back", Heap{Live: live, Objects: 2 * live, Allocated: 1}, false},
	} {
		if got := ShouldReturn(prev, c.now); got != c.want {
			t.Errorf("%s: ShouldReturn = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNextWait(t *testing.T) {
	gap := 5 * time.Second
	wait := gap
	// Returns as soon as allowed (bursts with pauses): each doubles the wait.
	for _, want := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second} {
		if wait = nextWait(wait, gap, wait); wait != want {
			t.Fatalf("after a return one wait after the last: wait %v, want %v", wait, want)
		}
	}
	for range 20 {
		wait = nextWait(wait, gap, wait)
	}
	if wait != maxGap {
		t.Fatalf("the wait grew to %v, not maxGap %v", wait, maxGap)
	}
	if got := nextWait(wait, gap, closeGaps*wait-time.Second); got != maxGap {
		t.Fatalf("a return just within closeGaps waits: wait %v, want maxGap", got)
	}
	if got := nextWait(wait, gap, closeGaps*wait); got != gap {
		t.Fatalf("after a long calm: wait %v, want the gap %v", got, gap)
	}
}

// fakeHeap stands in for the runtime: each read allocates busy bytes and
// reports a heap with a lot to spare, and each read and free is signalled.
type fakeHeap struct {
	mu    sync.Mutex
	busy  uint64 // bytes each read adds to Allocated
	now   Heap
	reads chan struct{}
	frees chan struct{}
	// count is the reads so far, quietFrom the count when busy fell to 0,
	// atFree the count at the first free.
	count, quietFrom, atFree int
}

func (f *fakeHeap) read() Heap {
	f.mu.Lock()
	f.now.Allocated += f.busy
	f.count++
	h := f.now
	f.mu.Unlock()
	select {
	case f.reads <- struct{}{}:
	default:
	}
	return h
}

func (f *fakeHeap) free() {
	f.mu.Lock()
	if f.atFree == 0 {
		f.atFree = f.count
	}
	f.mu.Unlock()
	f.frees <- struct{}{}
}

func (f *fakeHeap) setBusy(b uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busy = b
	f.quietFrom = f.count
}

func TestRunReturnsOnlyWhenQuietAndAtMostOncePerGap(t *testing.T) {
	f := &fakeHeap{
		busy:  100 * mib, // writes flowing
		now:   Heap{Live: 300 * mib, Objects: 600 * mib},
		reads: make(chan struct{}),
		frees: make(chan struct{}, 8),
	}
	r := &Returner{log: zap.NewNop(), every: time.Millisecond, gap: time.Hour, read: f.read, free: f.free}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitReads := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-f.reads:
			case <-time.After(time.Minute):
				t.Fatal("the returner stopped reading")
			}
		}
	}
	waitReads(4)
	if len(f.frees) != 0 {
		t.Fatal("returned memory while writes flowed")
	}
	f.setBusy(0)
	select {
	case <-f.frees:
	case <-time.After(time.Minute):
		t.Fatal("never returned memory once quiet")
	}
	f.mu.Lock()
	quietReads := f.atFree - f.quietFrom
	f.mu.Unlock()
	if quietReads < quietPolls {
		t.Fatalf("returned after %d quiet reads, want at least %d", quietReads, quietPolls)
	}
	// The fake's spare never shrinks: only the gap holds the next return off.
	waitReads(20)
	if len(f.frees) != 0 {
		t.Fatal("returned again within the gap")
	}
}

// TestRunOnTheRuntime leaves 96 MiB of garbage in the real heap, with the
// collector's percentage so high that only the Returner's collection can
// take it, and waits for the Returner to return it.
func TestRunOnTheRuntime(t *testing.T) {
	// 8 MiB live, so that the test's own small allocations leave each poll
	// interval quiet (under 16 KiB in one).
	live := make([]byte, 8*mib)
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(1 << 20))
	var sink []byte
	for range 96 {
		sink = make([]byte, mib)
	}
	_ = sink
	sink = nil

	freed := make(chan Heap, 1)
	r := &Returner{log: zap.NewNop(), every: 10 * time.Millisecond, gap: time.Hour, read: readRuntime, free: func() {
		debug.FreeOSMemory()
		select {
		case freed <- readRuntime():
		default:
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case h := <-freed:
		if h.spare() >= MinSpare {
			t.Fatalf("after the return %d MiB is still spare", h.spare()/mib)
		}
	case <-time.After(time.Minute):
		t.Fatalf("96 MiB of garbage, quiet, and never returned: %+v", readRuntime())
	}
	runtime.KeepAlive(live)
}
