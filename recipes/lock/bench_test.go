package lock_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/lock"
)

// BenchmarkMutex measures lock acquire+release cycles per second with 16
// contenders, each on its own client (session): all on one lock, and each on
// a lock of its own, against herd and Apache ZooKeeper side by side.
//
//	go test -run '^$' -bench BenchmarkMutex -benchtime 2000x ./recipes/lock
func BenchmarkMutex(b *testing.B) {
	const contenders = 16
	for _, fac := range testtarget.All {
		b.Run(fac.Name, func(b *testing.B) {
			tg := fac.Start(b, recipetest.Tick)
			clients := make([]*framework.Client, contenders)
			for i := range clients {
				clients[i] = recipetest.Client(b, tg.Addr())
			}
			for _, shape := range []struct {
				name string
				path func(i int) string
			}{
				{"one-lock-16-contenders", func(int) string { return "/bench/one" }},
				{"16-independent-locks", func(i int) string { return fmt.Sprintf("/bench/own-%d", i) }},
			} {
				b.Run(shape.name, func(b *testing.B) {
					benchCycles(b, clients, shape.path)
				})
			}
		})
	}
}

// benchCycles runs b.N Lock+Unlock cycles spread over the clients.
func benchCycles(b *testing.B, clients []*framework.Client, path func(int) string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	b.ResetTimer()
	start := time.Now()
	for i, c := range clients {
		m := lock.NewMutex(c, path(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := m.Lock(ctx); err != nil {
					errs <- err
					return
				}
				if err := m.Unlock(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cycles/s")
}
