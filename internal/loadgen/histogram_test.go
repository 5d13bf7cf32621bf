package loadgen

import (
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 123456, 1 << 40, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
		i := bucketOf(v)
		if i < prev || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d (prev %d, max %d)", v, i, prev, numBuckets)
		}
		prev = i
		hi := bucketHigh(i)
		if hi < v || (v >= 128 && float64(hi-v) > float64(v)/subBuckets) {
			t.Errorf("value %d: bucket %d high %d", v, i, hi)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Errorf("value %d also fits bucket %d", v, i-1)
		}
	}
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram not zero")
	}
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Microsecond, 0.9: 900 * time.Microsecond,
		0.99: 990 * time.Microsecond, 1: time.Millisecond} {
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/subBuckets {
			t.Errorf("Quantile(%v) = %v, want %v within 1/64", q, got, want)
		}
	}
	if h.Min() != time.Microsecond || h.Max() != time.Millisecond || h.Mean() != 500500*time.Nanosecond {
		t.Errorf("min %v max %v mean %v", h.Min(), h.Max(), h.Mean())
	}
	var a, b Histogram
	a.Record(2 * time.Second)
	b.Record(time.Nanosecond)
	b.Record(-5)
	a.Merge(&b)
	a.Merge(&Histogram{})
	if a.Count() != 3 || a.Min() != 0 || a.Max() != 2*time.Second || a.Quantile(1) != 2*time.Second {
		t.Errorf("merged: n %d min %v max %v p100 %v", a.Count(), a.Min(), a.Max(), a.Quantile(1))
	}
}
