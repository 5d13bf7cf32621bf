//go:build measure

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/server"
)

// TestMeasureRestart loads MEASURE_ZNODES (default 1M) znodes of 100 bytes
// under one parent into an in-process one-node server, shuts it down and
// opens the data dir again, timing server.New (snapshot restore and log
// replay) and the first full getChildren of the parent. With
// MEASURE_CPUPROFILE / MEASURE_HEAPPROFILE set (paths outside the repo) it
// profiles the restart. A measurement, not a test:
//
//	MEASURE_CPUPROFILE=/tmp/restart.cpu go test -tags measure -run TestMeasureRestart -v -timeout 30m ./integration/
func TestMeasureRestart(t *testing.T) {
	n, _ := strconv.Atoi(envOr("MEASURE_ZNODES", "1000000"))
	dir := t.TempDir()
	srv, addr := startDataDirServer(t, dir)
	start := time.Now()
	loadBig(t, addr, n)
	t.Logf("loaded %d znodes in %v", n, time.Since(start).Round(time.Millisecond))
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("after load: live heap %d MB (%.0f B/znode, client and server in one process), heap from the OS %d MB",
		ms.HeapAlloc>>20, float64(ms.HeapAlloc)/float64(n), (ms.HeapSys-ms.HeapReleased)>>20)
	writeHeapProfile(t, "MEASURE_HEAPPROFILE", ".load")
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv = nil
	runtime.GC()

	if p := os.Getenv("MEASURE_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	start = time.Now()
	srv, addr = startDataDirServer(t, dir)
	opened := time.Since(start)
	defer func() { _ = srv.Shutdown(context.Background()) }()
	c := connectZK(t, addr)
	kids, _, err := c.Children("/big")
	if err != nil || len(kids) != n {
		t.Fatalf("getChildren(/big) after restart: %d children, %v", len(kids), err)
	}
	full := time.Since(start)
	pprof.StopCPUProfile()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("restart: server.New %v, full getChildren %v (%.2f µs/znode); live heap %d MB (%.0f B/znode); load %s",
		opened.Round(time.Millisecond), full.Round(time.Millisecond), float64(full.Microseconds())/float64(n),
		ms.HeapAlloc>>20, float64(ms.HeapAlloc)/float64(n), loadAvg())
	writeHeapProfile(t, "MEASURE_HEAPPROFILE", ".restart")
}

// writeHeapProfile writes a heap profile to the path in env, plus suffix.
func writeHeapProfile(t *testing.T, env, suffix string) {
	p := os.Getenv(env)
	if p == "" {
		return
	}
	f, err := os.Create(p + suffix)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return string(b[:len(b)-1])
}

// startDataDirServer runs a one-node server on dir until the test ends.
func startDataDirServer(t *testing.T, dir string) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(context.Background(), server.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// The cleanup holds only the listener's server: a test that shuts a
	// server down itself must not keep its tree alive through the cleanup.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { _ = srv.Serve(l); close(served) }()
	t.Cleanup(func() {
		_ = l.Close()
		<-served
	})
	return srv, l.Addr().String()
}

func connectZK(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, 30*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for e := range events {
		if e.State == zk.StateHasSession {
			break
		}
	}
	return c
}

// loadBig creates /big and n children of 100 bytes in multi batches of
// MEASURE_LOAD_BATCH (default 200; 1 means plain creates, from 64 workers)
// over 4 sessions.
func loadBig(t *testing.T, addr string, n int) {
	t.Helper()
	batch, _ := strconv.Atoi(envOr("MEASURE_LOAD_BATCH", "200"))
	batch = max(batch, 1)
	const sessions = 4
	workers := sessions
	if batch == 1 {
		workers = 64
	}
	acl := zk.WorldACL(zk.PermAll)
	c0 := connectZK(t, addr)
	if _, err := c0.Create("/big", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	value := make([]byte, 100)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	conns := make([]*zk.Conn, sessions)
	for i := range conns {
		conns[i] = connectZK(t, addr)
	}
	for s := 0; s < workers; s++ {
		c := conns[s%sessions]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i0 := s * batch; i0 < n; i0 += workers * batch {
				if batch == 1 {
					if _, err := c.Create(fmt.Sprintf("/big/c%07d", i0), value, 0, acl); err != nil {
						errs[s] = err
						return
					}
					continue
				}
				var ops []any
				for i := i0; i < min(i0+batch, n); i++ {
					ops = append(ops, &zk.CreateRequest{Path: fmt.Sprintf("/big/c%07d", i), Data: value, Acl: acl})
				}
				if _, err := c.Multi(ops...); err != nil {
					errs[s] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
