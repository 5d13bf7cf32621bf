package loadgen

import (
	"fmt"
	"strings"
	"time"
)

// Result is the outcome of one run.
type Result struct {
	Workload          Workload
	Conns, Goroutines int
	// Ops counts successful operations, Errors failed ones.
	Ops, Errors int
	// Elapsed is the measured phase only (not connecting or cleaning up).
	Elapsed   time.Duration
	OpsPerSec float64
	// Latencies of successful operations.
	Min, Mean, P50, P90, P99, Max time.Duration
}

// Format renders r for `herd bench`, one figure per line.
func Format(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "workload    %s (%d conns x %d goroutines)\n", r.Workload, r.Conns, r.Goroutines)
	fmt.Fprintf(&b, "ops         %d ok, %d errors in %s\n", r.Ops, r.Errors, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "throughput  %.0f ops/s\n", r.OpsPerSec)
	fmt.Fprintf(&b, "latency     min %s  mean %s  p50 %s  p90 %s  p99 %s  max %s\n",
		short(r.Min), short(r.Mean), short(r.P50), short(r.P90), short(r.P99), short(r.Max))
	return b.String()
}

// short rounds a latency to three significant figures.
func short(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.Round(100 * time.Nanosecond).String()
}
