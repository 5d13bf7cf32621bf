package queue

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/herd-io/herd/framework"
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
// not put the item again: every item is delivered exactly once.
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
		eventually(t, "zero handled", func() bool { return seen.get("zero") == 1 })

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
		if markers := children(t, obs, p+"/"+putsDir); len(markers) != 3 {
			t.Errorf("put markers %v, want one per Put", markers)
		}
	})
}

// TestWorkQueuePutCancelledSettles: a Put whose ctx ends while its
// transaction is in flight learns the outcome before it returns: nil when
// the transaction applied (reply lost), ctx's error when it never reached
// the server, and then the fenced-off request can no longer apply.
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
		var fences int
		for _, m := range children(t, obs, p+"/"+putsDir) {
			data, _, err := obs.Get(testCtx(t), p+"/"+putsDir+"/"+m)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) == string(fenceMark) {
				fences++
			}
		}
		if fences != 1 {
			t.Fatalf("%d fence markers, want 1", fences)
		}
	})
}

// TestWorkQueuePutWindowPassed: a Put that cannot learn its outcome within
// half the put window returns ErrMaybePut (its marker may have been
// collected, so a retry would prove nothing) and does not put the item again.
func TestWorkQueuePutWindowPassed(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		fpx := newProxy(t, addr)
		producer := NewWorkQueue(newClient(t, fpx.Addr(), framework.WithSessionTimeout(2*time.Second)), p,
			WithPutWindow(time.Millisecond))
		if err := producer.Put(ctx, []byte("zero")); err != nil {
			t.Fatal(err)
		}
		fpx.HoldReplies(true)
		done := goPut(ctx, producer, "one")
		eventually(t, "one on the server", func() bool { return len(itemsOn(t, obs, p)) == 2 })
		fpx.Cut()
		fpx.HoldReplies(false)
		err := <-done
		if !errors.Is(err, ErrMaybePut) || !errors.Is(err, framework.ErrMaybeApplied) {
			t.Fatalf("Put past its window: %v, want ErrMaybePut", err)
		}
		if got := itemsOn(t, obs, p); len(got) != 2 {
			t.Fatalf("items %v, want zero and one once", got)
		}
	})
}

// TestWorkQueuePutCollectsMarkers: a Put deletes the put markers older than
// the window and keeps the younger ones and anything that is not a marker;
// the same WorkQueue collects again only an eighth of the window later.
func TestWorkQueuePutCollectsMarkers(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		p := testPath(t) + "/jobs"
		obs := newClient(t, addr)
		dir := p + "/" + putsDir
		if err := obs.EnsurePath(ctx, dir, framework.AsContainers()); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		old := []string{
			markerName(now.Add(-2*DefaultPutWindow), uuid.New()),
			markerName(now.Add(-DefaultPutWindow-time.Second), uuid.New()),
		}
		keep := []string{markerName(now.Add(-DefaultPutWindow/2), uuid.New()), "not-a-marker"}
		for _, m := range append(slices.Clone(old), keep...) {
			if _, err := obs.Create(ctx, dir+"/"+m, putMark); err != nil {
				t.Fatal(err)
			}
		}
		q := NewWorkQueue(newClient(t, addr), p)
		if err := q.Put(ctx, []byte("one")); err != nil {
			t.Fatal(err)
		}
		got := children(t, obs, dir)
		for _, m := range old {
			if slices.Contains(got, m) {
				t.Errorf("old marker %s kept", m)
			}
		}
		for _, m := range keep {
			if !slices.Contains(got, m) {
				t.Errorf("%s collected", m)
			}
		}
		if len(got) != len(keep)+1 {
			t.Errorf("markers %v, want the young ones and one's", got)
		}
		// Collected just now: the next Put leaves an old marker alone.
		late := markerName(now.Add(-2*DefaultPutWindow), uuid.New())
		if _, err := obs.Create(ctx, dir+"/"+late, putMark); err != nil {
			t.Fatal(err)
		}
		if err := q.Put(ctx, []byte("two")); err != nil {
			t.Fatal(err)
		}
		if got := children(t, obs, dir); !slices.Contains(got, late) {
			t.Errorf("markers %v: collected again within an eighth of the window", got)
		}
	})
}

func TestParseMarker(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_123)
	name := markerName(at, uuid.New())
	if ms, ok := parseMarker(name); !ok || ms != at.UnixMilli() {
		t.Fatalf("parseMarker(%q) = %d, %v", name, ms, ok)
	}
	for _, bad := range []string{"", "x", "0000000000ff", "0000000000ff-nope", "zzzzzzzzzzzz-" + uuid.NewString(), strings.Repeat("0", 13) + "-" + uuid.NewString()} {
		if _, ok := parseMarker(bad); ok {
			t.Errorf("parseMarker(%q) ok", bad)
		}
	}
}
