package queue

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// Queue throughput, herd and Apache ZooKeeper side by side (each a single
// node on this machine, data on local disk):
//
//	go test -run '^$' -bench . -benchtime 5000x ./recipes/queue
//
// Each benchmark moves b.N items and reports items/s: "put" with 16
// producers on 4 clients, "take"/"consume" draining a backlog of b.N items
// with 4 takers (Queue) or 2 consumers of 8 handlers each (WorkQueue).

func benchTargets(b *testing.B, f func(b *testing.B, addr string)) {
	recipetest.EachB(b, func(b *testing.B, tg recipetest.Target) { f(b, tg.Addr) })
}

// benchCtx bounds a benchmark run (longer than tests' wait: b.N may be large).
func benchCtx(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	return ctx
}

func benchClients(b *testing.B, addr string, n int) []*framework.Client {
	var cs []*framework.Client
	for range n {
		cs = append(cs, newClient(b, addr))
	}
	return cs
}

// parallelPut puts n items from 16 goroutines spread over clients.
func parallelPut(b *testing.B, n int, puts []func(context.Context, []byte) error) {
	ctx := benchCtx(b)
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		put := puts[g%len(puts)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := put(ctx, fmt.Appendf(nil, "item-%d", i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func itemsPerSecond(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "items/s")
}

var takers = 4

var consumers = 2

func BenchmarkQueue(b *testing.B) {
	benchTargets(b, func(b *testing.B, addr string) {
		b.Run("put", func(b *testing.B) {
			p := testPath(b)
			var puts []func(context.Context, []byte) error
			for _, c := range benchClients(b, addr, 4) {
				puts = append(puts, NewQueue(c, p).Put)
			}
			start := time.Now()
			b.ResetTimer()
			parallelPut(b, b.N, puts)
			itemsPerSecond(b, start)
		})
		b.Run("take", func(b *testing.B) {
			ctx := benchCtx(b)
			p := testPath(b)
			filler := NewQueue(newClient(b, addr), p)
			for i := 0; i < b.N; i += 500 {
				var batch [][]byte
				for j := i; j < min(i+500, b.N); j++ {
					batch = append(batch, fmt.Appendf(nil, "item-%d", j))
				}
				if err := filler.PutAll(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			start := time.Now()
			b.ResetTimer()
			for _, c := range benchClients(b, addr, takers) {
				q := NewQueue(c, p)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						if _, err := q.Take(ctx); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			itemsPerSecond(b, start)
		})
	})
}

func BenchmarkWorkQueue(b *testing.B) {
	benchTargets(b, func(b *testing.B, addr string) {
		b.Run("put", func(b *testing.B) {
			p := testPath(b)
			var puts []func(context.Context, []byte) error
			for _, c := range benchClients(b, addr, 4) {
				puts = append(puts, NewWorkQueue(c, p).Put)
			}
			start := time.Now()
			b.ResetTimer()
			parallelPut(b, b.N, puts)
			itemsPerSecond(b, start)
		})
		b.Run("consume", func(b *testing.B) {
			p := testPath(b)
			var puts []func(context.Context, []byte) error
			for _, c := range benchClients(b, addr, 4) {
				puts = append(puts, NewWorkQueue(c, p).Put)
			}
			parallelPut(b, b.N, puts)
			var handled atomic.Int64
			all := make(chan struct{})
			handle := func(context.Context, []byte) error {
				if handled.Add(1) == int64(b.N) {
					close(all)
				}
				return nil
			}
			ctx, cancel := context.WithCancel(benchCtx(b))
			var wg sync.WaitGroup
			start := time.Now()
			b.ResetTimer()
			var qs []*WorkQueue
			for _, c := range benchClients(b, addr, consumers) {
				q := NewWorkQueue(c, p)
				qs = append(qs, q)
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = q.Consume(ctx, 16/consumers, handle)
				}()
			}
			defer func() {
				var n int64
				for _, q := range qs {
					n += q.collisions.Load()
				}
				b.ReportMetric(float64(n)/float64(b.N), "collisions/item")
			}()
			<-all
			// Count the last items once they are settled (deleted), too.
			q := NewWorkQueue(newClient(b, addr), p)
			for {
				if n, err := q.Len(ctx); err != nil || n == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			itemsPerSecond(b, start)
			b.StopTimer()
			cancel()
			wg.Wait()
		})
	})
}
