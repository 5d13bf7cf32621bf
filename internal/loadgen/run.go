package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"
	"go.uber.org/zap"
)

// Run connects cfg.Conns sessions, runs cfg.Goroutines workers on each until
// cfg.Duration passes or cfg.Ops operations were issued, deletes every znode
// it created and closes its sessions. Operations do not take a context: when
// ctx ends, workers stop after their current request, and if a request hangs
// longer than the session timeout the sessions are closed to end it.
func Run(ctx context.Context, cfg Config, logger *zap.Logger) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	log := logger.With(zap.String("workload", string(cfg.Workload)))
	conns, err := dial(ctx, cfg, cfg.Conns, log)
	if err != nil {
		return Result{}, err
	}
	r := &runner{cfg: cfg, conns: conns, log: log,
		root: cfg.KeyPrefix + "/run-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]}
	defer func() { closeAll(r.conns) }()
	defer r.closeMore()

	workers, err := r.prepare()
	if err == nil {
		err = r.prepareMore(workers)
	}
	if err != nil {
		r.stopMore()
		return Result{}, errors.Join(err, r.cleanup(nil))
	}
	res, runErr := r.execute(ctx, workers)
	r.stopMore()
	return res, errors.Join(runErr, r.cleanup(workers))
}

type runner struct {
	cfg     Config
	conns   []*zk.Conn
	log     *zap.Logger
	root    string
	created []string // prefix components this run created, outermost first
	more    moreRun  // the run-wide state of the workloads in workloads.go
}

// prepare creates the run's root and per-worker znodes and the workers.
func (r *runner) prepare() ([]*worker, error) {
	c := r.conns[0]
	parts := strings.Split(strings.TrimPrefix(r.root, "/"), "/")
	p := ""
	for i, part := range parts {
		p += "/" + part
		_, err := c.Create(p, nil, 0, openACL)
		switch {
		case err == nil:
			if i < len(parts)-1 {
				r.created = append(r.created, p)
			}
		case errors.Is(err, zk.ErrNodeExists) && i < len(parts)-1:
		default:
			return nil, fmt.Errorf("loadgen: create %s: %w", p, err)
		}
	}
	value := make([]byte, r.cfg.ValueSize)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	var workers []*worker
	for ci, conn := range r.conns {
		for g := 0; g < r.cfg.Goroutines; g++ {
			w := &worker{id: ci*r.cfg.Goroutines + g, conn: conn, w: r.cfg.Workload, root: r.root, value: value}
			switch r.cfg.Workload {
			case WorkloadSetData, WorkloadGetData, WorkloadMixed, WorkloadExists, WorkloadWatch:
				w.key = fmt.Sprintf("%s/k%d", r.root, w.id)
				if _, err := conn.Create(w.key, value, 0, openACL); err != nil {
					return nil, fmt.Errorf("loadgen: create %s: %w", w.key, err)
				}
			case WorkloadLock:
				w.lock = zk.NewLock(conn, r.root+"/lock", openACL)
			}
			workers = append(workers, w)
		}
	}
	if r.cfg.Workload == WorkloadLock {
		if _, err := c.Create(r.root+"/lock", nil, 0, openACL); err != nil {
			return nil, fmt.Errorf("loadgen: create lock path: %w", err)
		}
	}
	return workers, nil
}

// execute runs the workers and gathers their figures.
func (r *runner) execute(ctx context.Context, workers []*worker) (Result, error) {
	if r.cfg.Measure != nil {
		r.cfg.Measure(true)
	}
	// The clock starts before the deadline is set, so Elapsed is never
	// shorter than Duration.
	start := time.Now()
	var runCtx context.Context
	var cancel context.CancelFunc
	if r.cfg.Duration > 0 {
		runCtx, cancel = context.WithDeadline(ctx, start.Add(r.cfg.Duration))
	} else {
		runCtx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	var claimed atomic.Int64
	var counts tally
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(runCtx, &claimed, r.cfg.Ops, &counts)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	stopProgress := r.reportProgress(start, &counts, done)
	r.await(runCtx, done)
	elapsed := time.Since(start)
	if r.cfg.Measure != nil {
		r.cfg.Measure(false)
	}
	stopProgress()

	res := Result{Workload: r.cfg.Workload, Conns: r.cfg.Conns, Goroutines: r.cfg.Goroutines, Elapsed: elapsed}
	var h Histogram
	var firstErr error
	for _, w := range workers {
		h.Merge(&w.hist)
		res.Ops += w.ops
		res.Errors += w.errs
		if firstErr == nil {
			firstErr = w.firstErr
		}
	}
	if elapsed > 0 {
		res.OpsPerSec = float64(res.Ops) / elapsed.Seconds()
	}
	res.Min, res.Mean, res.Max = h.Min(), h.Mean(), h.Max()
	res.P50, res.P90, res.P99 = h.Quantile(0.50), h.Quantile(0.90), h.Quantile(0.99)
	r.log.Info("loadgen run finished", zap.Int("ops", res.Ops), zap.Int("errors", res.Errors),
		zap.Duration("elapsed", elapsed), zap.Float64("ops_per_sec", res.OpsPerSec))
	if firstErr != nil {
		r.log.Warn("loadgen operations failed", zap.Int("errors", res.Errors), zap.Error(firstErr))
		if res.Ops == 0 {
			return res, fmt.Errorf("loadgen: all %d operations failed: %w", res.Errors, firstErr)
		}
	}
	return res, nil
}

// tally counts operations across workers as they happen, for progress.
type tally struct{ ops, errs atomic.Int64 }

// reportProgress calls cfg.Progress every interval until the workers are
// done or the returned stop is called; stop waits for a call in progress.
func (r *runner) reportProgress(start time.Time, t *tally, done <-chan struct{}) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(r.cfg.ProgressInterval)
		defer tick.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case <-quit:
				return
			case now := <-tick.C:
				ops := t.ops.Load()
				p := Progress{Elapsed: now.Sub(start), Ops: ops, Errors: t.errs.Load()}
				if d := now.Sub(lastAt).Seconds(); d > 0 {
					p.Rate = float64(ops-last) / d
				}
				last, lastAt = ops, now
				r.cfg.Progress(p)
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// await waits for the workers. Once the run is over they get one session
// timeout to finish their current request; after that the sessions are
// closed, which fails every pending request, and fresh ones are opened for
// cleanup.
func (r *runner) await(runCtx context.Context, done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-runCtx.Done():
	}
	grace := time.NewTimer(r.cfg.SessionTimeout)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
	}
	r.log.Warn("loadgen workers stuck after the run ended; closing sessions")
	closeAll(r.conns)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.SessionTimeout)
	defer cancel()
	conns, err := dial(ctx, r.cfg, 1, r.log)
	if err != nil {
		r.log.Warn("loadgen cannot reconnect for cleanup", zap.Error(err))
		r.conns = nil
		return
	}
	r.conns = conns
}
