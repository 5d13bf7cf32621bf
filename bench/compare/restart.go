package main

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

const restartBatch = 200

// runRestart loads o.znodes znodes of o.valueSize bytes under one parent
// into each server (one node, or the first of -nodes), reports memory per
// znode after the load and after churnTime of setData on them, stops it
// with SIGTERM, starts it again and times how long until it
// answers srvr and until a getChildren of the parent returns every child.
func runRestart(ctx context.Context, o options, root string) error {
	n := o.nodes[0]
	fmt.Printf("\nrestart: %d znodes of %d bytes under /big, %d node(s), created %d per request from %d sessions\n",
		o.znodes, o.valueSize, n, max(o.loadBatch, 1), o.conns)
	for _, k := range kinds(o) {
		if err := restartOne(ctx, o, root, k, n); err != nil {
			return err
		}
	}
	return nil
}

func restartOne(ctx context.Context, o options, root, kind string, n int) error {
	t, err := startTarget(ctx, kind, n, root, o.herdBin, o.zkCP, o.zkHeap)
	if err != nil {
		return err
	}
	defer t.stop()
	_, base := t.memory()
	start := time.Now()
	if err := load(t.addrs(), o); err != nil {
		return fmt.Errorf("%s: load: %w", t.name, err)
	}
	loadTime := time.Since(start)
	// Let a snapshot in progress finish: what restart reads is on disk.
	time.Sleep(3 * time.Second)
	hwm, rss := t.memory()
	size := dirSize(filepath.Join(root, fmt.Sprintf("%s%d-1", kind, n)))
	fmt.Printf("%s: loaded in %v (%.0f znodes/s); RSS %d MB before load, %d MB after (%.0f B/znode total, %.0f B/znode added), VmHWM %d MB, data dir %d MB; load %s\n",
		t.name, loadTime.Round(time.Millisecond), float64(o.znodes)/loadTime.Seconds(), base>>20, rss>>20,
		float64(rss)/float64(o.znodes), float64(rss-base)/float64(o.znodes), hwm>>20, size>>20, loadavg())

	// RSS after a load is a resting figure; under writes a collected heap
	// holds more, so measure that too.
	ops, took, rss, err := rewrite(t, o, churnTime)
	if err != nil {
		return fmt.Errorf("%s: setData on /big: %w", t.name, err)
	}
	hwm, _ = t.memory()
	fmt.Printf("%s: %v of setData on /big's znodes from %d workers: %.0f ops/s; RSS at its end %d MB (%.0f B/znode), VmHWM since start %d MB; load %s\n",
		t.name, churnTime, o.conns*max(o.goroutines, 1), float64(ops)/took.Seconds(), rss>>20,
		float64(rss)/float64(o.znodes), hwm>>20, loadavg())
	time.Sleep(3 * time.Second) // as after the load: let a snapshot finish

	for _, nd := range t.nodes {
		nd.stop()
	}
	start = time.Now()
	for _, nd := range t.nodes {
		if err := nd.start(); err != nil {
			return err
		}
	}
	if err := t.waitServing(ctx, 10*time.Minute); err != nil {
		return err
	}
	serving := time.Since(start)
	count, err := waitChildren(ctx, t.addrs()[0], "/big", o.znodes, 10*time.Minute)
	if err != nil {
		return fmt.Errorf("%s after restart: %w", t.name, err)
	}
	full := time.Since(start)
	hwm, rss = t.memory()
	fmt.Printf("%s: restart to srvr serving %v, to getChildren(/big) = %d children %v (%.2f µs/znode); RSS after restart %d MB (%.0f B/znode), VmHWM %d MB; load %s\n",
		t.name, serving.Round(time.Millisecond), count, full.Round(time.Millisecond),
		float64(full.Microseconds())/float64(o.znodes), rss>>20, float64(rss)/float64(o.znodes), hwm>>20, loadavg())
	return nil
}

// load creates /big and o.znodes children: in multi batches of
// o.loadBatch from o.conns sessions, or, with o.loadBatch 1, one create per
// request from o.conns × o.goroutines workers (a log of one entry per znode,
// as an application's creates make).
func load(addrs []string, o options) error {
	acl := zk.WorldACL(zk.PermAll)
	value := make([]byte, o.valueSize)
	batch := max(o.loadBatch, 1)
	workers := o.conns
	if batch == 1 {
		workers *= max(o.goroutines, 1)
	}
	first := func(c *zk.Conn) error { _, err := c.Create("/big", nil, 0, acl); return err }
	return withWorkers(addrs, o.conns, workers, first, func(wi int, c *zk.Conn) error {
		for s := wi * batch; s < o.znodes; s += workers * batch {
			if batch == 1 {
				if _, err := c.Create(fmt.Sprintf("/big/c%07d", s), value, 0, acl); err != nil {
					return err
				}
				continue
			}
			var ops []any
			for i := s; i < min(s+batch, o.znodes); i++ {
				ops = append(ops, &zk.CreateRequest{Path: fmt.Sprintf("/big/c%07d", i), Data: value, Acl: acl})
			}
			if _, err := c.Multi(ops...); err != nil {
				return err
			}
		}
		return nil
	})
}

// churnTime is how long rewrite runs.
const churnTime = 10 * time.Second

// rewrite sets the data of /big's children from o.conns × o.goroutines
// workers for d, once the sessions are open, and returns how many it set,
// how long that took, and t's RSS at the end, before the sessions close.
func rewrite(t *target, o options, d time.Duration) (ops int64, took time.Duration, rss int64, err error) {
	value := make([]byte, o.valueSize)
	workers := o.conns * max(o.goroutines, 1)
	counts := make([]int64, workers)
	var start, deadline time.Time
	begin := func(*zk.Conn) error { start = time.Now(); deadline = start.Add(d); return nil }
	var ended sync.Once
	end := func() { ended.Do(func() { took = time.Since(start); _, rss = t.memory() }) }
	err = withWorkers(t.addrs(), o.conns, workers, begin, func(wi int, c *zk.Conn) error {
		// Each worker walks its own section of the children from its start,
		// so the writes spread over the whole tree, not its first part.
		from := wi * (o.znodes / workers)
		for k := 0; time.Now().Before(deadline); k++ {
			if _, err := c.Set(fmt.Sprintf("/big/c%07d", (from+k)%o.znodes), value, -1); err != nil {
				return err
			}
			counts[wi]++
		}
		end() // the first worker past the deadline measures
		return nil
	})
	for _, n := range counts {
		ops += n
	}
	return ops, took, rss, err
}

// withWorkers opens sessions sessions to addrs, runs first (if not nil) on
// the first, then work on workers goroutines, worker wi on session
// wi % sessions, and returns the first error any of them met.
func withWorkers(addrs []string, sessions, workers int, first func(*zk.Conn) error, work func(wi int, c *zk.Conn) error) error {
	conns := make([]*zk.Conn, sessions)
	for i := range conns {
		c, err := connect(addrs, 30*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		conns[i] = c
	}
	if first != nil {
		if err := first(conns[0]); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for wi := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[wi] = work(wi, conns[wi%len(conns)])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// connect opens a session and waits for it.
func connect(addrs []string, limit time.Duration) (*zk.Conn, error) {
	c, events, err := zk.Connect(addrs, 30*time.Second, zk.WithLogger(quiet{}), zk.WithLogInfo(false))
	if err != nil {
		return nil, err
	}
	timeout := time.After(limit)
	for {
		select {
		case e := <-events:
			if e.State == zk.StateHasSession {
				return c, nil
			}
		case <-timeout:
			c.Close()
			return nil, fmt.Errorf("no session with %v within %v", addrs, limit)
		}
	}
}

// waitChildren polls getChildren(path) until it returns want children.
func waitChildren(ctx context.Context, addr, path string, want int, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	got := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		c, err := connect([]string{addr}, time.Until(deadline))
		if err != nil {
			return 0, err
		}
		kids, _, err := c.Children(path)
		c.Close()
		got = len(kids)
		if err == nil && got == want {
			return got, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return got, fmt.Errorf("getChildren(%s) returned %d, not %d, within %v", path, got, want, limit)
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
