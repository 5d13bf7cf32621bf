package server_test

import (
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/loadgen"
	"github.com/herd-io/herd/internal/loadgen/loadgentest"
	"github.com/herd-io/herd/internal/zkpeer"
)

// BenchmarkServers runs the same workloads against herd (one node, fsync on
// through raft-wal) and Apache ZooKeeper 3.8 (standalone, fsync on) side by
// side: 4 sessions x 16 goroutines, 100-byte values, as the project's
// reference numbers. Compare ops/s and the latency percentiles:
//
//	go test -run '^$' -bench BenchmarkServers -benchtime 20000x ./server/
func BenchmarkServers(b *testing.B) {
	servers := []struct {
		name  string
		start func(b *testing.B) string
	}{
		{"herd", func(b *testing.B) string { return herdtest.Start(b).Addr }},
		{"zookeeper", func(b *testing.B) string { return zkpeer.StartT(b, zkpeer.Options{}).Addr }},
	}
	workloads := []loadgen.Workload{loadgen.WorkloadCreate, loadgen.WorkloadSetData, loadgen.WorkloadGetData}
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			addr := srv.start(b)
			for _, w := range workloads {
				b.Run(string(w), func(b *testing.B) { loadgentest.Bench(b, addr, w) })
			}
		})
	}
}
