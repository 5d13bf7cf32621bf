// Package loadgentest runs loadgen workloads from Go benchmarks, so server
// benchmarks report the same figures as `herd bench`. It is separate from
// loadgen to keep the testing package out of the herd binary.
package loadgentest

import (
	"context"
	"testing"

	"github.com/herd-io/herd/internal/loadgen"
)

// Bench runs b.N operations of w against the server at addr with the layout
// of the project's reference numbers (4 sessions x 16 goroutines, 100-byte
// values) and reports ops/s and latency percentiles. ns/op is replaced by the
// measured phase's time per operation, so connecting and cleanup do not count.
func Bench(b *testing.B, addr string, w loadgen.Workload) {
	b.Helper()
	BenchConfig(b, loadgen.Config{Servers: []string{addr}, Workload: w, Conns: 4, Goroutines: 16, ValueSize: 100})
}

// BenchConfig is Bench with a caller-chosen Config; Ops is set to b.N and
// Duration is ignored.
func BenchConfig(b *testing.B, cfg loadgen.Config) {
	b.Helper()
	cfg.Ops, cfg.Duration = b.N, 0
	res, err := loadgen.Run(context.Background(), cfg, nil)
	if err != nil {
		b.Fatalf("loadgen: %v", err)
	}
	if res.Errors > 0 {
		b.Fatalf("loadgen: %d of %d operations failed", res.Errors, res.Errors+res.Ops)
	}
	if res.Ops > 0 {
		b.ReportMetric(float64(res.Elapsed.Nanoseconds())/float64(res.Ops), "ns/op")
	}
	b.ReportMetric(res.OpsPerSec, "ops/s")
	b.ReportMetric(float64(res.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(res.P99.Microseconds()), "p99-µs")
}
