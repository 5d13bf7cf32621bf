package server

import (
	"testing"
	"time"
)

// TestLatencyMinimumCountsZero checks the min latency of srvr/mntr and of
// cons: a 0ms request is a real minimum, not "nothing observed yet", so a
// later slower request must not replace it.
func TestLatencyMinimumCountsZero(t *testing.T) {
	c := &conn{srv: &Server{}}
	if lo, avg, hi := c.srv.stats.latency.get(); lo != 0 || avg != 0 || hi != 0 {
		t.Fatalf("before any request: %v/%v/%v", lo, avg, hi)
	}
	for _, d := range []time.Duration{0, 3 * time.Millisecond, 5 * time.Millisecond} {
		c.observe(d, 1)
	}
	if lo, _, _ := c.srv.stats.latency.get(); lo != 0 {
		t.Errorf("server min latency %v, want 0", lo)
	}
	if lo, _, _ := c.latency.get(); lo != 0 {
		t.Errorf("connection min latency %v, want 0", lo)
	}
	c2 := &conn{srv: &Server{}}
	for _, d := range []time.Duration{7 * time.Millisecond, 4 * time.Millisecond, 10 * time.Millisecond} {
		c2.observe(d, 1)
	}
	lo, avg, hi := c2.srv.stats.latency.get()
	if lo != 4*time.Millisecond || avg != 7*time.Millisecond || hi != 10*time.Millisecond {
		t.Errorf("server latency %v/%v/%v, want 4ms/7ms/10ms", lo, avg, hi)
	}
	if lo, _, _ := c2.latency.get(); lo != 4*time.Millisecond {
		t.Errorf("connection min latency %v, want 4ms", lo)
	}
	c2.srv.stats.latency.reset()
	if lo, avg, hi := c2.srv.stats.latency.get(); lo != 0 || avg != 0 || hi != 0 {
		t.Errorf("after reset: %v/%v/%v", lo, avg, hi)
	}
}
