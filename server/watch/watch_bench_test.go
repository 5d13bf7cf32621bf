package watch

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// countWatcher counts its notifications.
type countWatcher struct{ n int }

func (c *countWatcher) Notify(Event) { c.n++ }

// BenchmarkAddTrigger is one getData-with-watch and its setData: a data
// watch set and fired, on a table that holds 10k other watches.
func BenchmarkAddTrigger(b *testing.B) {
	m := NewManager()
	other := &countWatcher{}
	for i := 0; i < 10_000; i++ {
		m.AddData("/other/n"+strconv.Itoa(i), other)
	}
	w := &countWatcher{}
	ev := Event{Type: proto.EventNodeDataChanged, Path: "/app/config"}
	b.ReportAllocs()
	for b.Loop() {
		m.AddData(ev.Path, w)
		if m.Trigger(ev) != 1 {
			b.Fatal("watch did not fire")
		}
	}
}

// BenchmarkTriggerFanout1000 fires one change to 1000 watchers (each set
// again before the next change), as a config znode watched by 1000 clients.
func BenchmarkTriggerFanout1000(b *testing.B) {
	const n = 1000
	m := NewManager()
	ws := make([]*countWatcher, n)
	for i := range ws {
		ws[i] = &countWatcher{}
	}
	ev := Event{Type: proto.EventNodeDataChanged, Path: "/app/config"}
	b.ReportAllocs()
	for b.Loop() {
		for _, w := range ws {
			m.AddData(ev.Path, w)
		}
		if m.Trigger(ev) != n {
			b.Fatal("not every watch fired")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/watch")
}

// BenchmarkMemoryPerWatch sets 100k data watches, 10 per watcher (one
// watcher is one session) on distinct paths, and reports the heap each
// costs, then fires them all and reports the time per watch fired.
func BenchmarkMemoryPerWatch(b *testing.B) {
	const n, perWatcher = 100_000, 10
	paths := make([]string, n)
	for i := range paths {
		paths[i] = "/app/jobs/job-" + strconv.Itoa(i)
	}
	ws := make([]*countWatcher, n/perWatcher)
	for i := range ws {
		ws[i] = &countWatcher{}
	}
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := NewManager()
		for i, p := range paths {
			m.AddData(p, ws[i/perWatcher])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/watch")
		for _, p := range paths {
			m.Trigger(Event{Type: proto.EventNodeDeleted, Path: p})
		}
		if m.Count() != 0 {
			b.Fatal("watches left")
		}
	}
}
