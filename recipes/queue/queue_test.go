package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/herd-io/herd/framework"
)

// TestQueueFIFO: Put and PutAll append in order, Len counts the items, Take
// returns them in order and an emptied queue has no qn- node left.
func TestQueueFIFO(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		c := newClient(t, addr)
		p := testPath(t) + "/q"
		q := NewQueue(c, p)
		var want []string
		for i := range 10 {
			want = append(want, fmt.Sprintf("item-%d", i))
			if err := q.Put(ctx, []byte(want[i])); err != nil {
				t.Fatalf("Put: %v", err)
			}
		}
		var batch [][]byte
		for i := 10; i < 25; i++ {
			want = append(want, fmt.Sprintf("item-%d", i))
			batch = append(batch, []byte(want[i]))
		}
		if err := q.PutAll(ctx, batch); err != nil {
			t.Fatalf("PutAll: %v", err)
		}
		if err := q.PutAll(ctx, nil); err != nil {
			t.Fatalf("PutAll(nil): %v", err)
		}
		if n, err := q.Len(ctx); err != nil || n != len(want) {
			t.Fatalf("Len = %d, %v; want %d", n, err, len(want))
		}
		for i, w := range want {
			got, err := q.Take(ctx)
			if err != nil {
				t.Fatalf("Take #%d: %v", i, err)
			}
			if string(got) != w {
				t.Fatalf("Take #%d = %q, want %q", i, got, w)
			}
		}
		if n, err := q.Len(ctx); err != nil || n != 0 {
			t.Fatalf("Len after draining = %d, %v", n, err)
		}
		// The receipt is the only child left, and Close removes it.
		kids := children(t, c, p)
		if len(kids) != 1 || !strings.HasPrefix(kids[0], receiptPrefix) {
			t.Fatalf("children after draining: %v, want one receipt", kids)
		}
		if err := q.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if kids := children(t, c, p); len(kids) != 0 {
			t.Fatalf("children after Close: %v", kids)
		}
	})
}

// TestQueueTakeBlocks: Take on a queue that does not exist yet blocks until
// a producer puts an item; a Take whose ctx ends returns its error and
// leaves no node.
func TestQueueTakeBlocks(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/q"
		obs := newClient(t, addr)

		cancelled, cancel := context.WithCancel(ctx)
		gave := make(chan error, 1)
		go func() {
			_, err := NewQueue(newClient(t, addr), p).Take(cancelled)
			gave <- err
		}()
		cancel()
		if err := <-gave; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Take: %v", err)
		}
		if st, err := obs.Exists(ctx, p); err != nil || st != nil {
			t.Fatalf("a cancelled Take left %s (%v)", p, err)
		}

		got := make(chan string, 1)
		go func() {
			data, err := NewQueue(newClient(t, addr), p).Take(ctx)
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- string(data)
		}()
		if err := NewQueue(obs, p).Put(ctx, []byte("late")); err != nil {
			t.Fatal(err)
		}
		if g := <-got; g != "late" {
			t.Fatalf("blocked Take got %q", g)
		}
	})
}

// TestQueueExactlyOnce: takers on four clients, two goroutines each, share
// one queue; every item is taken exactly once.
func TestQueueExactlyOnce(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/q"
		const n = 200
		producer := NewQueue(newClient(t, addr), p)
		var items [][]byte
		for i := range n {
			items = append(items, fmt.Appendf(nil, "%d", i))
		}
		if err := producer.PutAll(ctx, items[:n/2]); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		total := 0
		takers, stop := context.WithCancel(ctx) // ended once every item is out
		defer stop()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 4 {
			q := NewQueue(newClient(t, addr), p)
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						data, err := q.Take(takers)
						if err != nil {
							if takers.Err() == nil {
								errs <- err
							}
							return
						}
						mu.Lock()
						seen[string(data)]++
						total++
						if total == n {
							stop()
						}
						mu.Unlock()
					}
				}()
			}
		}
		for _, it := range items[n/2:] {
			if err := producer.Put(ctx, it); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("Take: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			if c := seen[string(it)]; c != 1 {
				t.Errorf("item %s taken %d times", it, c)
			}
		}
	})
}

// TestQueueBadArguments: invalid paths and a nil client are errors wrapping
// framework.ErrInvalidPath or ErrNilClient, and nothing is created.
func TestQueueBadArguments(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		c := newClient(t, addr)
		p := testPath(t)
		for _, bad := range []string{"", "q", "/", p + "/", p + "//q", p + "/./q"} {
			q := NewQueue(c, bad)
			_, takeErr := q.Take(ctx)
			_, lenErr := q.Len(ctx)
			for name, err := range map[string]error{"Put": q.Put(ctx, nil), "PutAll": q.PutAll(ctx, [][]byte{nil}),
				"Take": takeErr, "Len": lenErr, "Close": q.Close(ctx)} {
				if !errors.Is(err, framework.ErrInvalidPath) {
					t.Errorf("%s on %q: %v, want ErrInvalidPath", name, bad, err)
				}
			}
		}
		if err := NewQueue(nil, p).Put(ctx, nil); !errors.Is(err, ErrNilClient) {
			t.Errorf("Put with a nil client: %v", err)
		}
		if st, err := c.Exists(ctx, p); err != nil || st != nil {
			t.Fatalf("a bad argument created %s (%v)", p, err)
		}
	})
}
