package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes"
	"github.com/herd-io/herd/recipes/lock"
	"github.com/herd-io/herd/recipes/queue"
)

// moreState is a worker's state for the workloads of this file.
type moreState struct {
	children string        // getChildren: the shared parent
	fan      *fanout       // watch
	dial     func() error  // session: open, wait for and close one session
	mutex    *lock.Mutex   // recipeLock, recipeLockMany
	queue    *queue.Queue  // queue
	timeout  time.Duration // bound on one recipe operation
	prefix   string        // ephemeral: path prefix of the goroutine's znodes
}

// moreRun is the run-wide state of the workloads of this file.
type moreRun struct {
	fw       []*framework.Client // recipe workloads: one client per session
	watchers sync.WaitGroup      // watch: every watcher goroutine
	stop     chan struct{}       // watch: closed when the run is over
	queues   []*queue.Queue      // queue: closed at the end
}

func isRecipe(w Workload) bool {
	return w == WorkloadRecipeLock || w == WorkloadRecipeLockMany || w == WorkloadQueue
}

// prepareMore sets up the workloads of this file after prepare.
func (r *runner) prepareMore(workers []*worker) error {
	r.more.stop = make(chan struct{})
	switch r.cfg.Workload {
	case WorkloadGetChildren:
		return r.prepareChildren(workers)
	case WorkloadWatch:
		return r.prepareWatch(workers)
	case WorkloadSession:
		for _, w := range workers {
			w.more.dial = func() error {
				conns, err := dial(context.Background(), r.cfg, 1, r.log)
				if err != nil {
					return err
				}
				closeAll(conns)
				return nil
			}
		}
	case WorkloadEphemeral:
		for _, w := range workers {
			w.more.prefix = fmt.Sprintf("%s/e%d-", r.root, w.id)
		}
	}
	if !isRecipe(r.cfg.Workload) {
		return nil
	}
	for range r.conns {
		c, err := framework.New(strings.Join(r.cfg.Servers, ","), framework.WithSessionTimeout(r.cfg.SessionTimeout),
			framework.WithLogger(r.log.Named("framework")))
		if err != nil {
			return fmt.Errorf("loadgen: framework client: %w", err)
		}
		r.more.fw = append(r.more.fw, c)
	}
	for _, w := range workers {
		c := r.more.fw[w.id/r.cfg.Goroutines]
		w.more.timeout = r.cfg.SessionTimeout
		switch r.cfg.Workload {
		case WorkloadRecipeLock:
			w.more.mutex = recipes.NewLock(c, r.root+"/lock")
		case WorkloadRecipeLockMany:
			w.more.mutex = recipes.NewLock(c, fmt.Sprintf("%s/lock%d", r.root, w.id))
		case WorkloadQueue:
			w.more.queue = recipes.NewQueue(c, r.root+"/queue")
			r.more.queues = append(r.more.queues, w.more.queue)
		}
	}
	return nil
}

// prepareChildren creates the shared parent and its children in multi
// batches, one goroutine per session.
func (r *runner) prepareChildren(workers []*worker) error {
	parent := r.root + "/big"
	if _, err := r.conns[0].Create(parent, nil, 0, openACL); err != nil {
		return fmt.Errorf("loadgen: create %s: %w", parent, err)
	}
	errs := make([]error, len(r.conns))
	var wg sync.WaitGroup
	for ci, c := range r.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := ci * deleteBatch; start < r.cfg.Children; start += len(r.conns) * deleteBatch {
				var ops []any
				for i := start; i < min(start+deleteBatch, r.cfg.Children); i++ {
					ops = append(ops, &zk.CreateRequest{Path: fmt.Sprintf("%s/c%07d", parent, i), Data: r.valueFor(), Acl: openACL})
				}
				if _, err := c.Multi(ops...); err != nil {
					errs[ci] = fmt.Errorf("loadgen: create children of %s: %w", parent, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, w := range workers {
		w.more.children = parent
	}
	return errors.Join(errs...)
}

func (r *runner) valueFor() []byte { return make([]byte, r.cfg.ValueSize) }

// fanout is one watch goroutine's key and the watchers of it.
type fanout struct {
	key  string
	n    int
	acks chan error // one per watcher per change: nil once the watch is set again
}

// prepareWatch starts cfg.Watchers watcher goroutines per worker, spread
// over the sessions, and waits until each has set its first watch.
func (r *runner) prepareWatch(workers []*worker) error {
	for _, w := range workers {
		f := &fanout{key: w.key, n: r.cfg.Watchers, acks: make(chan error, r.cfg.Watchers)}
		w.more.fan = f
		w.more.timeout = r.cfg.SessionTimeout
		for i := 0; i < f.n; i++ {
			c := r.conns[(w.id+i)%len(r.conns)]
			r.more.watchers.Add(1)
			go func() {
				defer r.more.watchers.Done()
				r.watchLoop(c, f)
			}()
		}
		if err := f.await(r.cfg.SessionTimeout); err != nil {
			return fmt.Errorf("loadgen: set watches on %s: %w", f.key, err)
		}
	}
	return nil
}

// watchLoop sets a data watch on f.key, and each time it fires sets it
// again and acknowledges, until the run stops.
func (r *runner) watchLoop(c *zk.Conn, f *fanout) {
	for {
		_, _, ev, err := c.GetW(f.key)
		select {
		case <-r.more.stop:
			return
		default:
		}
		select {
		case f.acks <- err:
		case <-r.more.stop:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-ev:
		case <-r.more.stop:
			return
		}
	}
}

// await collects one acknowledgement from each watcher.
func (f *fanout) await(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for i := 0; i < f.n; i++ {
		select {
		case err := <-f.acks:
			if err != nil {
				return err
			}
		case <-t.C:
			return fmt.Errorf("loadgen: %d of %d watches on %s did not fire within %v", f.n-i, f.n, f.key, timeout)
		}
	}
	return nil
}

// stopMore ends the watchers once the workers are done and deletes the
// big parent's children in batches (cleanup would delete them one by one).
func (r *runner) stopMore() {
	if r.more.stop == nil {
		return // prepare failed before prepareMore ran
	}
	close(r.more.stop)
	r.more.watchers.Wait()
	if r.cfg.Workload != WorkloadGetChildren || len(r.conns) == 0 {
		return
	}
	parent := r.root + "/big"
	for start := 0; start < r.cfg.Children; start += deleteBatch {
		var ops []any
		for i := start; i < min(start+deleteBatch, r.cfg.Children); i++ {
			ops = append(ops, &zk.DeleteRequest{Path: fmt.Sprintf("%s/c%07d", parent, i), Version: -1})
		}
		if _, err := r.conns[0].Multi(ops...); err != nil {
			return // cleanup's deleteTree deletes what is left
		}
	}
}

// closeMore closes the queues and the framework clients.
func (r *runner) closeMore() {
	for _, q := range r.more.queues {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.SessionTimeout)
		_ = q.Close(ctx)
		cancel()
	}
	for _, c := range r.more.fw {
		_ = c.Close()
	}
}

// doMore runs one operation of the workloads of this file.
func (w *worker) doMore(n int) error {
	switch w.w {
	case WorkloadExists:
		_, _, err := w.conn.Exists(w.key)
		return err
	case WorkloadGetChildren:
		_, _, err := w.conn.Children(w.more.children)
		return err
	case WorkloadEphemeral:
		p := w.more.prefix + fmt.Sprint(n)
		if _, err := w.conn.Create(p, w.value, zk.FlagEphemeral, openACL); err != nil {
			return err
		}
		return w.conn.Delete(p, -1)
	case WorkloadWatch:
		if _, err := w.conn.Set(w.key, w.value, -1); err != nil {
			return err
		}
		return w.more.fan.await(w.more.timeout)
	case WorkloadSession:
		return w.more.dial()
	case WorkloadRecipeLock, WorkloadRecipeLockMany:
		ctx, cancel := context.WithTimeout(context.Background(), w.more.timeout)
		defer cancel()
		if err := w.more.mutex.Lock(ctx); err != nil {
			return err
		}
		return w.more.mutex.Unlock(ctx)
	case WorkloadQueue:
		ctx, cancel := context.WithTimeout(context.Background(), w.more.timeout)
		defer cancel()
		if err := w.more.queue.Put(ctx, w.value); err != nil {
			return err
		}
		_, err := w.more.queue.Take(ctx)
		return err
	}
	return ErrConfig
}
