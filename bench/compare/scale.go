package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// runScale loads -znodes znodes, opens -sessions sessions (raw wire
// clients, light enough to open thousands from one process) and sets
// -watches data watches spread over them (watches/sessions each, on
// distinct znodes), reporting the server's RSS after each step, then
// changes every watched znode (multi setData batches) and times until
// every notification has arrived.
func runScale(ctx context.Context, o options, root string) error {
	fmt.Printf("\nscale: %d znodes of %d bytes, %d sessions, %d data watches, one node\n",
		o.znodes, o.valueSize, o.sessions, o.watches)
	if o.watches > o.znodes {
		return fmt.Errorf("-watches %d above -znodes %d", o.watches, o.znodes)
	}
	for _, k := range kinds(o) {
		if err := scaleOne(ctx, o, root, k); err != nil {
			return err
		}
	}
	return nil
}

func scaleOne(ctx context.Context, o options, root, kind string) error {
	t, err := startTarget(ctx, kind, 1, root+"/scale", o.herdBin, o.zkCP, o.zkHeap)
	if err != nil {
		return err
	}
	defer t.stop()
	mem := func() int64 { _, rss := t.memory(); return rss }
	base := mem()
	if err := load(t.addrs(), o); err != nil {
		return fmt.Errorf("%s: load: %w", t.name, err)
	}
	loaded := mem()
	fmt.Printf("%s: RSS %d MB idle, %d MB with %d znodes (%.0f B/znode)\n", t.name, base>>20, loaded>>20,
		o.znodes, float64(loaded-base)/float64(o.znodes))

	start := time.Now()
	conns, err := openSessions(ctx, t.addrs()[0], o.sessions)
	defer func() {
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = c.Close(cctx)
			}()
		}
		wg.Wait()
	}()
	if err != nil {
		return fmt.Errorf("%s: sessions: %w", t.name, err)
	}
	withSessions := mem()
	fmt.Printf("%s: %d sessions opened in %v; RSS %d MB (%.0f B/session)\n", t.name, len(conns),
		time.Since(start).Round(time.Millisecond), withSessions>>20, float64(withSessions-loaded)/float64(len(conns)))

	start = time.Now()
	if err := setWatches(ctx, conns, o.watches); err != nil {
		return fmt.Errorf("%s: watches: %w", t.name, err)
	}
	withWatches := mem()
	fmt.Printf("%s: %d watches set in %v; RSS %d MB (%.0f B/watch); VmHWM so far %d MB\n", t.name, o.watches,
		time.Since(start).Round(time.Millisecond), withWatches>>20, float64(withWatches-withSessions)/float64(o.watches),
		func() int64 { h, _ := t.memory(); return h >> 20 }())

	var before uint64
	for _, c := range conns {
		before += c.Notifications()
	}
	writer, err := connect(t.addrs(), 30*time.Second)
	if err != nil {
		return err
	}
	defer writer.Close()
	start = time.Now()
	value := make([]byte, o.valueSize)
	for s := 0; s < o.watches; s += restartBatch {
		var ops []any
		for i := s; i < min(s+restartBatch, o.watches); i++ {
			ops = append(ops, &zk.SetDataRequest{Path: fmt.Sprintf("/big/c%07d", i), Data: value, Version: -1})
		}
		if _, err := writer.Multi(ops...); err != nil {
			return fmt.Errorf("%s: setData: %w", t.name, err)
		}
	}
	written := time.Since(start)
	deadline := time.Now().Add(5 * time.Minute)
	var got uint64
	for {
		got = 0
		for _, c := range conns {
			got += c.Notifications()
		}
		if got-before >= uint64(o.watches) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	fired := time.Since(start)
	hwm, rss := t.memory()
	fmt.Printf("%s: %d of %d watches fired in %v (writes took %v, %.2f µs/watch); RSS %d MB, VmHWM %d MB; load %s\n",
		t.name, got-before, o.watches, fired.Round(time.Millisecond), written.Round(time.Millisecond),
		float64(fired.Microseconds())/float64(o.watches), rss>>20, hwm>>20, loadavg())
	return fanOut(ctx, t, conns, writer, value)
}

// fanOut has every session watch one znode, changes it once and times
// until every session has its notification.
func fanOut(ctx context.Context, t *target, conns []*wireclient.Conn, writer *zk.Conn, value []byte) error {
	const path = "/big/c0000000"
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(conns); i = int(next.Add(1)) - 1 {
				var resp proto.GetDataResponse
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := conns[i].Do(dctx, proto.OpGetData, &proto.PathWatchRequest{Path: path, Watch: true}, &resp)
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("%s: fan-out watches: %w", t.name, err)
	default:
	}
	var before uint64
	for _, c := range conns {
		before += c.Notifications()
	}
	start := time.Now()
	if _, err := writer.Set(path, value, -1); err != nil {
		return fmt.Errorf("%s: fan-out setData: %w", t.name, err)
	}
	deadline := time.Now().Add(time.Minute)
	var got uint64
	for {
		got = 0
		for _, c := range conns {
			got += c.Notifications()
		}
		if got-before >= uint64(len(conns)) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("%s: one setData fired %d of %d sessions' watches in %v; load %s\n", t.name, got-before, len(conns),
		time.Since(start).Round(100*time.Microsecond), loadavg())
	return nil
}

// openSessions dials n sessions from 16 goroutines.
func openSessions(ctx context.Context, addr string, n int) ([]*wireclient.Conn, error) {
	conns := make([]*wireclient.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				c, err := wireclient.Dial(dctx, addr, wireclient.Options{SessionTimeout: 30 * time.Second})
				cancel()
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	var out []*wireclient.Conn
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, first
}

// setWatches sets watches data watches, watch i on /big/c<i> through
// session i mod len(conns), from 16 goroutines.
func setWatches(ctx context.Context, conns []*wireclient.Conn, watches int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= watches {
					return
				}
				var resp proto.GetDataResponse
				req := &proto.PathWatchRequest{Path: fmt.Sprintf("/big/c%07d", i), Watch: true}
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := conns[i%len(conns)].Do(dctx, proto.OpGetData, req, &resp)
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
