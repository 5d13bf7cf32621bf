package queue

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
)

// receiptVersion returns the version of the only receipt under p.
func receiptVersion(t *testing.T, c *framework.Client, p string) int32 {
	t.Helper()
	for _, k := range children(t, c, p) {
		if strings.HasPrefix(k, receiptPrefix) {
			_, st, err := c.Get(testCtx(t), p+"/"+k)
			if err != nil {
				t.Fatal(err)
			}
			return st.Version
		}
	}
	t.Fatalf("no receipt under %s", p)
	return 0
}

// TestQueueTakeReplyLost: the take transaction reaches the server but its
// reply is lost with the connection. Take must learn that it took the item
// (one versioned write on its receipt) and return it, not lose it.
func TestQueueTakeReplyLost(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/q"
		obs := newClient(t, addr)
		fpx := newProxy(t, addr)
		q := NewQueue(newClient(t, fpx.Addr(), framework.WithSessionTimeout(2*time.Second)), p)
		primeAndPut(t, q)
		var once sync.Once
		testHookBeforeTake = func() { once.Do(func() { fpx.HoldReplies(true) }) }
		t.Cleanup(func() { testHookBeforeTake = nil })
		done := make(chan takeResult, 1)
		go func() { done <- take(q, ctx) }()
		eventually(t, "item taken on the server", func() bool { return len(itemNames(children(t, obs, p))) == 0 })
		fpx.Cut()
		fpx.HoldReplies(false)
		r := <-done
		if r.err != nil || r.data != "one" {
			t.Fatalf("Take across a lost reply = %q, %v; want \"one\"", r.data, r.err)
		}
		// One take before, this one: the fence found the take applied.
		if v := receiptVersion(t, obs, p); v != 2 {
			t.Fatalf("receipt version %d, want 2 (two takes, no fence write)", v)
		}
	})
}

// TestQueueTakeRequestLost: the take transaction never reaches the server
// (the network holds it until the client gives up on the connection). Take
// must learn that it did not take the item, fence the lost request off, and
// take the item again.
func TestQueueTakeRequestLost(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/q"
		obs := newClient(t, addr)
		fpx := newProxy(t, addr)
		c := newClient(t, fpx.Addr()) // a 4 s session outlasts the 2.7 s go-zookeeper waits for a reply
		states := c.StateChanges(ctx)
		q := NewQueue(c, p)
		primeAndPut(t, q)
		sid := c.SessionID()
		var once sync.Once
		testHookBeforeTake = func() { once.Do(func() { fpx.Blackhole(true) }) }
		t.Cleanup(func() { testHookBeforeTake = nil })
		done := make(chan takeResult, 1)
		go func() { done <- take(q, ctx) }()
		for s := range states {
			if s == framework.Suspended {
				break
			}
		}
		// Drop the held request before letting traffic through again.
		fpx.Cut()
		fpx.Blackhole(false)
		r := <-done
		if r.err != nil || r.data != "one" {
			t.Fatalf("Take across a lost request = %q, %v; want \"one\"", r.data, r.err)
		}
		// On a loaded machine the session may expire before the client is
		// back; then the receipt went with it and Take used a new one.
		if c.SessionID() == sid {
			if v := receiptVersion(t, obs, p); v != 3 {
				t.Fatalf("receipt version %d, want 3 (take, fence, take)", v)
			}
		}
		if n := len(itemNames(children(t, obs, p))); n != 0 {
			t.Fatalf("%d items left", n)
		}
	})
}

type takeResult struct {
	data string
	err  error
}

func take(q *Queue, ctx context.Context) takeResult {
	data, err := q.Take(ctx)
	return takeResult{string(data), err}
}

// primeAndPut takes one item (so the Queue's receipt exists) and leaves "one"
// in the queue.
func primeAndPut(t *testing.T, q *Queue) {
	t.Helper()
	ctx := testCtx(t)
	for _, s := range []string{"zero", "one"} {
		if err := q.Put(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := q.Take(ctx); err != nil || string(got) != "zero" {
		t.Fatalf("priming Take = %q, %v", got, err)
	}
}
