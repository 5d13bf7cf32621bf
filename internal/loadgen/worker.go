package loadgen

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

var openACL = zk.WorldACL(zk.PermAll)

// worker is one goroutine's state; only that goroutine touches it until the
// run ends.
type worker struct {
	id    int
	conn  *zk.Conn
	w     Workload
	root  string
	key   string // setData, getData, mixed
	value []byte
	lock  *zk.Lock
	n     int       // operations started
	more  moreState // the state of the workloads in workloads.go

	hist     Histogram
	ops      int
	errs     int
	firstErr error
	made     []int // create: suffixes known to exist
	maybe    []int // create: suffixes whose outcome is unknown
}

// loop runs operations until ctx ends or the shared budget is spent.
func (w *worker) loop(ctx context.Context, claimed *atomic.Int64, limit int, t *tally) {
	for ctx.Err() == nil {
		if limit > 0 && claimed.Add(1) > int64(limit) {
			return
		}
		start := time.Now()
		err := w.do()
		d := time.Since(start)
		if err != nil {
			w.errs++
			t.errs.Add(1)
			if w.firstErr == nil {
				w.firstErr = err
			}
			continue
		}
		w.ops++
		t.ops.Add(1)
		w.hist.Record(d)
	}
}

func (w *worker) do() error {
	n := w.n
	w.n++
	switch w.w {
	case WorkloadCreate:
		_, err := w.conn.Create(w.createPath(n), w.value, 0, openACL)
		switch {
		case err == nil:
			w.made = append(w.made, n)
		case !definite(err):
			w.maybe = append(w.maybe, n)
		}
		return err
	case WorkloadSetData:
		_, err := w.conn.Set(w.key, w.value, -1)
		return err
	case WorkloadGetData:
		_, _, err := w.conn.Get(w.key)
		return err
	case WorkloadMixed:
		if n%10 == 9 {
			_, err := w.conn.Set(w.key, w.value, -1)
			return err
		}
		_, _, err := w.conn.Get(w.key)
		return err
	case WorkloadLock:
		if err := w.lock.Lock(); err != nil {
			return err
		}
		return w.lock.Unlock()
	}
	return w.doMore(n)
}

func (w *worker) createPath(n int) string {
	return w.root + "/c" + strconv.Itoa(w.id) + "-" + strconv.Itoa(n)
}

// definite reports whether err is the server's answer, so the request's
// effect is known; connection errors leave it unknown.
func definite(err error) bool {
	for _, e := range []error{zk.ErrConnectionClosed, zk.ErrClosing, zk.ErrNoServer, zk.ErrSessionExpired,
		zk.ErrSessionMoved, zk.ErrUnknown} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}
