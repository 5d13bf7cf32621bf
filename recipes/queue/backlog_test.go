package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// putConcurrently puts n items named <prefix><i> with 8 producers.
func putConcurrently(t *testing.T, n int, put func(ctx context.Context, data []byte) error) {
	t.Helper()
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if err := put(ctx, fmt.Appendf(nil, "%d", i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestBacklogListings: draining a backlog of 1,000 items lists the
// directory a few dozen times, not once per item (Curator's queues list on
// every change, which is what breaks them on long backlogs).
func TestBacklogListings(t *testing.T) {
	const n = 1000
	eachTarget(t, func(t *testing.T, addr string) {
		t.Run("Queue", func(t *testing.T) {
			ctx := testCtx(t)
			p := testPath(t)
			putConcurrently(t, n, NewQueue(newClient(t, addr), p).Put)
			q := NewQueue(newClient(t, addr), p)
			seen := map[string]bool{}
			for range n {
				data, err := q.Take(ctx)
				if err != nil {
					t.Fatal(err)
				}
				seen[string(data)] = true
			}
			if len(seen) != n {
				t.Fatalf("%d distinct items taken, want %d", len(seen), n)
			}
			if l := q.lists.Load(); l > 2 {
				t.Fatalf("%d listings for %d items by one taker, want 1 (2 at most)", l, n)
			}
		})
		t.Run("WorkQueue", func(t *testing.T) {
			p := testPath(t)
			putConcurrently(t, n, NewWorkQueue(newClient(t, addr), p).Put)
			q := NewWorkQueue(newClient(t, addr), p)
			seen := newCounter()
			stop := consume(t, q, 8, func(ctx context.Context, data []byte) error {
				seen.add(string(data))
				return nil
			})
			eventually(t, "every item handled", func() bool { return seen.sum() >= n })
			stopped(t, stop())
			for i := range n {
				if c := seen.get(fmt.Sprint(i)); c != 1 {
					t.Fatalf("item %d handled %d times", i, c)
				}
			}
			if l := q.lists.Load(); l > 80 {
				t.Fatalf("%d listings for %d items, want at most 80", l, n)
			}
			t.Logf("%d listings for %d items", q.lists.Load(), n)
		})
	})
}
