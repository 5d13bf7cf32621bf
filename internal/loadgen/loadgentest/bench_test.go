package loadgentest

import (
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/herd-io/herd/internal/loadgen"
	"github.com/herd-io/herd/internal/zkpeer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBenchReportsMetrics(t *testing.T) {
	peer := zkpeer.StartT(t, zkpeer.Options{})
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("300x"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bt.Value.Set(old) }()
	r := testing.Benchmark(func(b *testing.B) { Bench(b, peer.Addr, loadgen.WorkloadMixed) })
	if r.N != 300 || r.Extra["ops/s"] <= 0 || r.Extra["p99-µs"] <= 0 || r.Extra["ns/op"] <= 0 {
		t.Errorf("benchmark result N=%d extra=%v", r.N, r.Extra)
	}
}

// BenchmarkZooKeeper shows the intended use; run with -bench. The server
// starts once, outside the measured sub-benchmarks.
func BenchmarkZooKeeper(b *testing.B) {
	peer := zkpeer.StartT(b, zkpeer.Options{})
	for _, w := range loadgen.Workloads {
		b.Run(string(w), func(b *testing.B) { Bench(b, peer.Addr, w) })
	}
}
