package server

import (
	"sync/atomic"
	"time"
)

// latencies accumulates request latencies in whole milliseconds (what srvr and
// cons print) without a lock; the server keeps one and so does each connection.
type latencies struct {
	min, max, sum, n atomic.Int64 // min holds the minimum plus one, so 0 means none yet
}

func (l *latencies) observe(d time.Duration) {
	ms := d.Milliseconds()
	l.sum.Add(ms)
	l.n.Add(1)
	for {
		cur := l.max.Load()
		if ms <= cur || l.max.CompareAndSwap(cur, ms) {
			break
		}
	}
	for {
		cur := l.min.Load()
		if (cur != 0 && ms+1 >= cur) || l.min.CompareAndSwap(cur, ms+1) {
			break
		}
	}
}

// get returns the minimum, average and maximum; all zero before any request.
func (l *latencies) get() (lo, avg, hi time.Duration) {
	lo = time.Duration(max(l.min.Load()-1, 0)) * time.Millisecond
	hi = time.Duration(l.max.Load()) * time.Millisecond
	if n := l.n.Load(); n > 0 {
		avg = time.Duration(l.sum.Load()) * time.Millisecond / time.Duration(n)
	}
	return lo, avg, hi
}

// reset forgets everything observed (crst, srst).
func (l *latencies) reset() {
	l.min.Store(0)
	l.max.Store(0)
	l.sum.Store(0)
	l.n.Store(0)
}
