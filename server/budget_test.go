package server_test

import (
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

func liveHeap() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestHeapStaysInBudget starts many clients that pipeline getData on a 100 KB
// node and never read. Before the budget each could cost the server its
// whole outbound cap (64 MiB); now the server must stop reading and answering
// them once it holds MaxQueuedBytes, keep its live heap within the stated
// budget, and go on serving a client that reads.
func TestHeapStaysInBudget(t *testing.T) {
	const (
		clients     = 30
		queued      = 8 << 20
		nodeSize    = 100 << 10
		perRequests = 300
	)
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.MaxQueuedBytes = queued }))
	good := dial(t, s.Addr, wireclient.Options{})
	big := strings.Repeat("x", nodeSize)
	create(t, good, "/big", big, proto.ModePersistent)
	before := liveHeap()

	var wg sync.WaitGroup
	var conns []*rawConn
	for i := 0; i < clients; i++ {
		r := rawDial(t, s.Addr)
		_ = r.nc.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4 << 10)
		if r.connect(proto.ConnectRequest{TimeOut: 30000}) == nil {
			t.Fatal("no session")
		}
		conns = append(conns, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := 0; x < perRequests; x++ {
				req := &proto.RequestHeader{Xid: int32(x + 1), Op: proto.OpGetData}
				if r.trySend(req, &proto.PathWatchRequest{Path: "/big"}) != nil {
					return // closed at the end of the test
				}
			}
		}()
	}
	defer func() {
		for _, r := range conns {
			r.nc.Close()
		}
		wg.Wait()
	}()
	waitFor(t, "every non-reading client to be paused", func() bool {
		_, _, paused := s.Server().BudgetStats()
		return paused >= clients
	})
	// Served meanwhile: a client that reads gets its answers.
	for i := 0; i < 5; i++ {
		if d, _ := getData(t, good, "/big", false); d != big {
			t.Fatal("wrong data")
		}
	}
	reqs, held, paused := s.Server().BudgetStats()
	grown := liveHeap() - before
	// The README's budget: MaxQueuedBytes + connections × (64 KiB + the
	// largest response), doubled for buffer growth, plus per connection its
	// 64 KiB read buffer and a 64 KiB spare write buffer.
	perConn := int64(64<<10+nodeSize) + 128<<10
	limit := 2*(queued+clients*perConn) + clients*128<<10
	t.Logf("%d clients paused (%d goroutines); server holds %d requests, %d bytes; live heap grew %.1f MiB (limit %.1f MiB)",
		clients, paused, reqs, held, float64(grown)/(1<<20), float64(limit)/(1<<20))
	if held > queued+clients*perConn {
		t.Fatalf("server holds %d bytes for clients, budget %d", held, queued+clients*perConn)
	}
	if grown > limit {
		t.Fatalf("live heap grew by %d bytes, over the budget's %d", grown, limit)
	}
}
