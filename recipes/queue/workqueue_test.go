package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
)

// counter counts handler calls per item, safe for concurrent handlers.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
	order []string
	total int
}

func newCounter() *counter { return &counter{calls: map[string]int{}} }

func (c *counter) add(item string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[item]++
	c.order = append(c.order, item)
	c.total++
	return c.calls[item]
}

func (c *counter) get(item string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[item]
}

func (c *counter) sum() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// consume runs q.Consume on a goroutine; stop cancels it and returns its error.
func consume(t *testing.T, q *WorkQueue, n int, h func(context.Context, []byte) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, n, h) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// stopped checks that Consume ended because its ctx was cancelled.
func stopped(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume returned %v, want context.Canceled", err)
	}
}

// noHolds checks that no claim and no consumer node is left under p.
func noHolds(t *testing.T, c *framework.Client, p string) {
	t.Helper()
	for _, d := range []string{claimsDir, consumersDir} {
		if kids := children(t, c, p+"/"+d); len(kids) != 0 {
			t.Fatalf("%s left behind: %v", d, kids)
		}
	}
}

// TestWorkQueueExactlyOnce: three consumers on three clients, four handlers
// each, share 150 items; each is handled exactly once, and when the
// consumers stop nothing is left: no item, claim or consumer node.
func TestWorkQueueExactlyOnce(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		producer := NewWorkQueue(newClient(t, addr), p)
		const n = 150
		for i := range n / 2 {
			if err := producer.PutPriority(ctx, fmt.Appendf(nil, "%d", i), int32(i%3)); err != nil {
				t.Fatal(err)
			}
		}
		seen := newCounter()
		handle := func(ctx context.Context, data []byte) error {
			seen.add(string(data))
			return nil
		}
		var stops []func() error
		for range 3 {
			stops = append(stops, consume(t, NewWorkQueue(newClient(t, addr), p), 4, handle))
		}
		for i := n / 2; i < n; i++ {
			if err := producer.Put(ctx, fmt.Appendf(nil, "%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "every item handled", func() bool { return seen.sum() >= n })
		eventually(t, "the queue empty", func() bool {
			l, err := producer.Len(ctx)
			return err == nil && l == 0
		})
		for _, stop := range stops {
			stopped(t, stop())
		}
		for i := range n {
			if c := seen.get(fmt.Sprint(i)); c != 1 {
				t.Errorf("item %d handled %d times", i, c)
			}
		}
		noHolds(t, obs, p)
	})
}

// TestWorkQueueOrder: one handler sees items by priority (lower first), FIFO
// within a priority, and a delayed item only once it is due.
func TestWorkQueueOrder(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		q := NewWorkQueue(newClient(t, addr), p)
		at := time.Now().Add(500 * time.Millisecond)
		if err := q.PutDelayed(ctx, []byte("later"), at); err != nil {
			t.Fatal(err)
		}
		for _, it := range []struct {
			data string
			prio int32
		}{{"a", 0}, {"urgent", -5}, {"lazy", 5}, {"b", 0}, {"very urgent", -1 << 31}} {
			if err := q.PutPriority(ctx, []byte(it.data), it.prio); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.PutDelayed(ctx, []byte("past"), time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		seen := newCounter()
		var laterAt time.Time
		stop := consume(t, q, 1, func(ctx context.Context, data []byte) error {
			if string(data) == "later" {
				laterAt = time.Now()
			}
			seen.add(string(data))
			return nil
		})
		eventually(t, "every item handled", func() bool { return seen.sum() == 7 })
		stopped(t, stop())
		// Where "later" falls among the others depends on how fast they go.
		got := slices.DeleteFunc(slices.Clone(seen.order), func(s string) bool { return s == "later" })
		want := []string{"very urgent", "urgent", "a", "b", "past", "lazy"}
		if !slices.Equal(got, want) {
			t.Fatalf("handled %q, want %q (and later)", seen.order, want)
		}
		if laterAt.Before(at) {
			t.Fatalf("delayed item handled %v before it was due", at.Sub(laterAt))
		}
	})
}

// TestWorkQueueRetries: a failing handler's item comes back after a backoff
// and is handled again; after MaxAttempts failures it is in the dead letters
// with its data, and it is no longer delivered.
func TestWorkQueueRetries(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		q := NewWorkQueue(newClient(t, addr), p, WithMaxAttempts(3), WithRetryBackoff(10*time.Millisecond, 40*time.Millisecond))
		for _, s := range []string{"ok", "flaky", "bad"} {
			if err := q.Put(ctx, []byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		seen := newCounter()
		var flakyOK sync.WaitGroup
		flakyOK.Add(1)
		stop := consume(t, q, 2, func(ctx context.Context, data []byte) error {
			n := seen.add(string(data))
			switch {
			case string(data) == "bad":
				return errors.New("always fails")
			case string(data) == "flaky" && n < 3:
				return fmt.Errorf("fails on try %d", n)
			case string(data) == "flaky":
				flakyOK.Done()
			}
			return nil
		})
		flakyOK.Wait()
		var dead []DeadLetter
		eventually(t, "a dead letter", func() bool {
			var err error
			dead, err = q.DeadLetters(ctx)
			return err == nil && len(dead) > 0
		})
		eventually(t, "the queue empty", func() bool {
			l, err := q.Len(ctx)
			return err == nil && l == 0
		})
		stopped(t, stop())
		if len(dead) != 1 || string(dead[0].Data) != "bad" || dead[0].Attempts != 3 {
			t.Fatalf("dead letters %+v, want \"bad\" after 3 attempts", dead)
		}
		for item, want := range map[string]int{"ok": 1, "flaky": 3, "bad": 3} {
			if got := seen.get(item); got != want {
				t.Errorf("%s handled %d times, want %d", item, got, want)
			}
		}
		noHolds(t, obs, p)
	})
}

// TestWorkQueueHeldItemAndExpiry: an item held by a consumer is not
// delivered to another while held; when the holder's session expires, the
// holder's handler ctx is cancelled and the other consumer gets the item.
func TestWorkQueueHeldItemAndExpiry(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		ca := newClient(t, addr)
		holding := make(chan struct{})
		released := make(chan error, 1)
		var once sync.Once
		stopA := consume(t, NewWorkQueue(ca, p), 1, func(ctx context.Context, data []byte) error {
			if string(data) != "held" {
				return fmt.Errorf("A got %q", data)
			}
			once.Do(func() { close(holding) })
			<-ctx.Done()
			released <- ctx.Err()
			return ctx.Err()
		})
		producer := NewWorkQueue(obs, p)
		if err := producer.Put(ctx, []byte("held")); err != nil {
			t.Fatal(err)
		}
		<-holding
		seenB := newCounter()
		stopB := consume(t, NewWorkQueue(newClient(t, addr), p), 2, func(ctx context.Context, data []byte) error {
			seenB.add(string(data))
			return nil
		})
		if err := producer.Put(ctx, []byte("other")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B handles other", func() bool { return seenB.get("other") == 1 })
		if seenB.get("held") != 0 {
			t.Fatal("B got an item A holds")
		}
		testtarget.ExpireSession(t, addr, ca.Conn())
		if err := <-released; !errors.Is(err, context.Canceled) {
			t.Fatalf("A's handler ctx: %v", err)
		}
		eventually(t, "B handles held", func() bool { return seenB.get("held") == 1 })
		stopped(t, stopA())
		stopped(t, stopB())
		if l, err := producer.Len(ctx); err != nil || l != 0 {
			t.Fatalf("Len = %d, %v", l, err)
		}
		noHolds(t, obs, p)
	})
}

// TestWorkQueueCancelReleases: when Consume's ctx ends while a handler runs,
// the handler's ctx is cancelled, Consume returns once it did, and the item
// stays in the queue without a failure counted; the next consumer gets it.
func TestWorkQueueCancelReleases(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		// With one attempt allowed, a counted failure would dead-letter it.
		q := NewWorkQueue(newClient(t, addr), p, WithMaxAttempts(1))
		if err := q.Put(ctx, []byte("job")); err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		stop := consume(t, q, 1, func(ctx context.Context, data []byte) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		<-started
		stopped(t, stop())
		noHolds(t, obs, p)
		kids := children(t, obs, p+"/"+itemsDir)
		if len(kids) != 1 || !strings.Contains(kids[0], "-0-") {
			t.Fatalf("items after cancel: %v, want the item with 0 failures", kids)
		}
		got := make(chan string, 1)
		stop = consume(t, q, 1, func(ctx context.Context, data []byte) error {
			got <- string(data)
			return nil
		})
		if g := <-got; g != "job" {
			t.Fatalf("next consumer got %q", g)
		}
		stopped(t, stop())
		if dead, err := q.DeadLetters(ctx); err != nil || len(dead) != 0 {
			t.Fatalf("dead letters %v, %v", dead, err)
		}
	})
}

// TestWorkQueueSuspendInterrupts: with the default grace a handler's ctx is
// cancelled as soon as the connection is SUSPENDED; after RECONNECTED the
// item (its claim still held) is released, not counted as a failure, and
// delivered again.
func TestWorkQueueSuspendInterrupts(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		if raceEnabled {
			t.Skip("go-zookeeper/zk v1.0.4 races on reconnect with watches; this test runs in the non-race stage")
		}
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		px := newProxy(t, addr)
		q := NewWorkQueue(newClient(t, px.Addr()), p, WithMaxAttempts(1))
		if err := q.Put(ctx, []byte("job")); err != nil {
			t.Fatal(err)
		}
		calls := newCounter()
		interrupted := make(chan struct{})
		stop := consume(t, q, 1, func(ctx context.Context, data []byte) error {
			if calls.add(string(data)) > 1 {
				return nil
			}
			px.Cut()
			<-ctx.Done()
			close(interrupted)
			return ctx.Err()
		})
		<-interrupted
		eventually(t, "the item handled again", func() bool { return calls.get("job") == 2 })
		eventually(t, "the queue empty", func() bool {
			l, err := q.Len(ctx)
			return err == nil && l == 0
		})
		stopped(t, stop())
		if dead, err := q.DeadLetters(ctx); err != nil || len(dead) != 0 {
			t.Fatalf("an interruption counted as a failure: dead letters %v, %v", dead, err)
		}
		noHolds(t, obs, p)
	})
}

// TestWorkQueueBadArguments: bad paths, options, concurrency and handlers
// are errors wrapping framework.ErrInvalidPath or a queue sentinel, and
// nothing is created.
func TestWorkQueueBadArguments(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		c := newClient(t, addr)
		p := testPath(t)
		ok := func(context.Context, []byte) error { return nil }
		for _, bad := range []string{"", "jobs", "/", p + "/", p + "//x"} {
			q := NewWorkQueue(c, bad)
			_, lenErr := q.Len(ctx)
			_, deadErr := q.DeadLetters(ctx)
			for name, err := range map[string]error{"Put": q.Put(ctx, nil), "PutPriority": q.PutPriority(ctx, nil, 1),
				"PutDelayed": q.PutDelayed(ctx, nil, time.Now()), "Len": lenErr, "DeadLetters": deadErr,
				"Consume": q.Consume(ctx, 1, ok)} {
				if !errors.Is(err, framework.ErrInvalidPath) {
					t.Errorf("%s on %q: %v, want ErrInvalidPath", name, bad, err)
				}
			}
		}
		q := NewWorkQueue(c, p)
		if err := q.Consume(ctx, 0, ok); !errors.Is(err, ErrInvalidConcurrency) {
			t.Errorf("Consume(0): %v", err)
		}
		if err := q.Consume(ctx, 1, nil); !errors.Is(err, ErrNilHandler) {
			t.Errorf("Consume(nil handler): %v", err)
		}
		for _, opt := range []Option{WithMaxAttempts(0), WithRetryBackoff(0, time.Second), WithRetryBackoff(time.Second, time.Millisecond)} {
			if err := NewWorkQueue(c, p, opt).Put(ctx, nil); !errors.Is(err, ErrInvalidOption) {
				t.Errorf("Put with a bad option: %v", err)
			}
		}
		if err := NewWorkQueue(nil, p).Consume(ctx, 1, ok); !errors.Is(err, ErrNilClient) {
			t.Errorf("Consume with a nil client: %v", err)
		}
		if st, err := c.Exists(ctx, p); err != nil || st != nil {
			t.Fatalf("a bad argument created %s (%v)", p, err)
		}
	})
}
