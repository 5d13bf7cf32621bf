package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// goPut runs q.Put on a goroutine and hands back its error.
func goPut(ctx context.Context, q *WorkQueue, item string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- q.Put(ctx, []byte(item)) }()
	return done
}

// itemsOn lists the items under p's items directory.
func itemsOn(t *testing.T, c *framework.Client, p string) []string {
	t.Helper()
	return children(t, c, p+"/"+itemsDir)
}

// TestWorkQueuePutReplyLostItemConsumed is the nemesis's duplicate: Put's
// transaction applies but its reply is lost, and a consumer handles and
// deletes the item before Put retries. The retry must find its marker and
// not put the item again: every item is delivered exactly once. A lone
// producer uses one producer slot throughout.
func TestWorkQueuePutReplyLostItemConsumed(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		fpx := newProxy(t, addr)
		producer := NewWorkQueue(newClient(t, fpx.Addr(), framework.WithSessionTimeout(2*time.Second)), p)
		seen := newCounter()
		consume(t, NewWorkQueue(newClient(t, addr), p), 1, func(_ context.Context, data []byte) error {
			seen.add(string(data))
			return nil
		})
		if err := producer.Put(ctx, []byte("zero")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "zero handled", func() bool { return seen.get("zero") == 1 && len(itemsOn(t, obs, p)) == 0 })
		// The items directory, a container that had a child and is empty
		// now, may be reaped at any moment (herd checks every 50 ms). Were
		// that to happen after the replies are held, Put's transaction
		// would fail with NoNode and Put would wait, for ever, on a reply
		// to its Exists. A fresh container is not reaped before its first
		// child, so remake it.
		if err := obs.Delete(ctx, p+"/"+itemsDir, framework.Quietly()); err != nil {
			t.Fatal(err)
		}
		if err := obs.EnsurePath(ctx, p+"/"+itemsDir, framework.AsContainers()); err != nil {
			t.Fatal(err)
		}

		fpx.HoldReplies(true)
		done := goPut(ctx, producer, "one")
		eventually(t, "one put, handled and deleted while the reply is held", func() bool {
			return seen.get("one") == 1 && len(itemsOn(t, obs, p)) == 0
		})
		fpx.Cut()
		fpx.HoldReplies(false)
		if err := <-done; err != nil {
			t.Fatalf("Put across a lost reply: %v, want nil (it applied)", err)
		}
		// A second copy of one would have a lower sequence number than two,
		// so the lone consumer, handling one item at a time in order, would
		// see it before two.
		if err := producer.Put(ctx, []byte("two")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "two handled", func() bool { return seen.get("two") == 1 })
		for _, it := range []string{"zero", "one", "two"} {
			if n := seen.get(it); n != 1 {
				t.Errorf("%s delivered %d times, want 1", it, n)
			}
		}
		if n := seen.sum(); n != 3 {
			t.Errorf("%d deliveries, want 3", n)
		}
		if slots := children(t, obs, p+"/"+producersDir); len(slots) != 1 {
			t.Errorf("producer slots %v, want the one a lone producer reuses", slots)
		}
	})
}

// TestWorkQueuePutCancelledSettles: a Put whose ctx ends while its
// transaction is in flight learns the outcome before it returns: nil when
// the transaction applied (reply lost), ctx's error when it never reached
// the server, and then the fenced-off request can no longer apply: the
// producer slot holds the fence, and the next Put reuses it.
func TestWorkQueuePutCancelledSettles(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		fpx := newProxy(t, addr)
		c := newClient(t, fpx.Addr()) // a 4 s session outlasts the 2.7 s go-zookeeper waits for a reply
		producer := NewWorkQueue(c, p)
		if err := producer.Put(testCtx(t), []byte("zero")); err != nil {
			t.Fatal(err)
		}

		// Applied, reply lost, then cancelled: the item was put.
		fpx.HoldReplies(true)
		ctx, cancel := context.WithCancel(testCtx(t))
		done := goPut(ctx, producer, "one")
		eventually(t, "one on the server", func() bool { return len(itemsOn(t, obs, p)) == 2 })
		cancel()
		fpx.Cut()
		fpx.HoldReplies(false)
		if err := <-done; err != nil {
			t.Fatalf("cancelled Put that applied: %v, want nil", err)
		}

		// Never sent past the network, then cancelled: not put, and fenced.
		eventually(t, "reconnected", func() bool { return c.State().IsConnected() })
		states := c.StateChanges(testCtx(t))
		fpx.Blackhole(true)
		ctx, cancel = context.WithCancel(testCtx(t))
		defer cancel()
		done = goPut(ctx, producer, "two")
		for s := range states {
			if s == framework.Suspended {
				break
			}
		}
		cancel()
		fpx.Cut() // drops the held request
		fpx.Blackhole(false)
		err := <-done
		if !errors.Is(err, context.Canceled) || errors.Is(err, framework.ErrMaybeApplied) {
			t.Fatalf("cancelled Put that never arrived: %v, want context.Canceled and a known outcome", err)
		}
		if got := itemsOn(t, obs, p); len(got) != 2 {
			t.Fatalf("items %v, want zero and one only", got)
		}
		slots := children(t, obs, p+"/"+producersDir)
		if len(slots) != 1 {
			t.Fatalf("producer slots %v, want one", slots)
		}
		data, _, err := obs.Get(testCtx(t), p+"/"+producersDir+"/"+slots[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), fencePrefix) {
			t.Fatalf("producer slot holds %q, want the fence of two", data)
		}
		// The fenced slot is reused: a later Put applies once.
		if err := producer.Put(testCtx(t), []byte("three")); err != nil {
			t.Fatal(err)
		}
		if got := itemsOn(t, obs, p); len(got) != 3 {
			t.Fatalf("items %v, want zero, one and three", got)
		}
	})
}

// TestWorkQueuePutSlotsBounded: the evidence Put keeps is bounded by how
// many Puts run at once, not by how many were made: 500 Puts from 4
// goroutines leave at most 4 producer slots, and Close deletes them.
func TestWorkQueuePutSlotsBounded(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		q := NewWorkQueue(newClient(t, addr), p)
		const workers, each = 4, 125
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					errs <- q.Put(ctx, []byte(fmt.Sprintf("%d-%d", w, i)))
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, err := q.Len(ctx); err != nil || n != workers*each {
			t.Fatalf("Len = %d, %v, want %d", n, err, workers*each)
		}
		slots := children(t, obs, p+"/"+producersDir)
		if len(slots) < 1 || len(slots) > workers {
			t.Fatalf("%d producer slots %v after %d Puts from %d goroutines, want 1..%d", len(slots), slots, workers*each, workers, workers)
		}
		if err := q.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if slots := children(t, obs, p+"/"+producersDir); len(slots) != 0 {
			t.Fatalf("producer slots %v after Close, want none", slots)
		}
	})
}

// TestWorkQueuePutSessionExpired: a session expiry with no Put in flight
// takes the producer slot with it; the next Put makes a new slot in the new
// session and puts its item once.
func TestWorkQueuePutSessionExpired(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		c := newClient(t, addr)
		q := NewWorkQueue(c, p)
		if err := q.Put(ctx, []byte("one")); err != nil {
			t.Fatal(err)
		}
		before := children(t, obs, p+"/"+producersDir)
		if len(before) != 1 {
			t.Fatalf("producer slots %v, want one", before)
		}
		old := c.SessionID()
		recipetest.Expire(t, addr, c)
		eventually(t, "a new session", func() bool {
			return c.State().IsConnected() && c.SessionID() != 0 && c.SessionID() != old
		})
		eventually(t, "the old slot gone with its session", func() bool {
			return len(children(t, obs, p+"/"+producersDir)) == 0
		})
		if err := q.Put(ctx, []byte("two")); err != nil {
			t.Fatalf("Put after the session expired: %v, want nil", err)
		}
		after := children(t, obs, p+"/"+producersDir)
		if len(after) != 1 || after[0] == before[0] {
			t.Fatalf("producer slots %v after expiry (before %v), want one new slot", after, before)
		}
		st, err := obs.Exists(ctx, p+"/"+producersDir+"/"+after[0])
		if err != nil || st == nil || st.EphemeralOwner != c.SessionID() {
			t.Fatalf("new slot %v, %v: want an ephemeral of the new session %x", st, err, c.SessionID())
		}
		if got := itemsOn(t, obs, p); len(got) != 2 {
			t.Fatalf("items %v, want one and two", got)
		}
	})
}

// TestWorkQueuePutInDoubtSessionExpired: a Put whose transaction applied
// but whose reply was lost, and whose session then expired, cannot learn
// the outcome (its producer slot went with the session): it returns
// ErrMaybePut and does not put the item again.
func TestWorkQueuePutInDoubtSessionExpired(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		fpx := newProxy(t, addr)
		c := newClient(t, fpx.Addr())
		producer := NewWorkQueue(c, p)
		if err := producer.Put(ctx, []byte("zero")); err != nil {
			t.Fatal(err)
		}
		old := c.SessionID()
		fpx.HoldReplies(true)
		done := goPut(ctx, producer, "one")
		eventually(t, "one on the server", func() bool { return len(itemsOn(t, obs, p)) == 2 })
		recipetest.Expire(t, addr, c)
		fpx.Cut()
		fpx.HoldReplies(false)
		err := <-done
		if !errors.Is(err, ErrMaybePut) || !errors.Is(err, framework.ErrMaybeApplied) {
			t.Fatalf("Put in doubt across a session expiry: %v, want ErrMaybePut", err)
		}
		if c.SessionID() == old {
			t.Fatalf("still in session %x, want a new one", old)
		}
		if got := itemsOn(t, obs, p); len(got) != 2 {
			t.Fatalf("items %v, want zero and one once", got)
		}
	})
}
