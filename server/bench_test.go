package server_test

import (
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/loadgen"
	"github.com/herd-io/herd/internal/loadgen/loadgentest"
	"github.com/herd-io/herd/internal/zkpeer"
)

// BenchmarkServers runs the same workloads against herd (one node, fsync on
// through raft-wal), a three-node herd cluster in this process (every
// session given all three nodes) and Apache ZooKeeper 3.8 (standalone, fsync
// on) side by side: 4 sessions x 16 goroutines, 100-byte values, as the
// project's reference numbers. Compare ops/s and the latency percentiles:
//
//	go test -run '^$' -bench BenchmarkServers -benchtime 20000x ./server/
//
// (ZooKeeper ×3 against herd ×3 in separate processes:
// go test -tags measure -run TestMeasureThroughput ./integration/.)
func BenchmarkServers(b *testing.B) {
	servers := []struct {
		name  string
		start func(b *testing.B) []string
	}{
		{"herd", func(b *testing.B) []string { return []string{herdtest.Start(b).Addr} }},
		{"herd-cluster", func(b *testing.B) []string { return herdtest.StartCluster(b, 3).Addrs() }},
		{"zookeeper", func(b *testing.B) []string { return []string{zkpeer.StartT(b, zkpeer.Options{}).Addr} }},
	}
	workloads := []loadgen.Workload{loadgen.WorkloadCreate, loadgen.WorkloadSetData, loadgen.WorkloadGetData}
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			addrs := srv.start(b)
			for _, w := range workloads {
				b.Run(string(w), func(b *testing.B) {
					loadgentest.BenchConfig(b, loadgen.Config{Servers: addrs, Workload: w, Conns: 4, Goroutines: 16, ValueSize: 100})
				})
			}
		})
	}
}
