package server_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/loadgen"
	"github.com/herd-io/herd/internal/loadgen/loadgentest"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/storage"
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
		start func(b *testing.B) ([]string, []*server.Server)
	}{
		{"herd", func(b *testing.B) ([]string, []*server.Server) {
			s := herdtest.Start(b)
			return []string{s.Addr}, []*server.Server{s.Server()}
		}},
		{"herd-cluster", func(b *testing.B) ([]string, []*server.Server) {
			c := herdtest.StartCluster(b, 3)
			leader := c.Leader().Server()
			nodes := []*server.Server{leader}
			for _, f := range c.Followers() {
				nodes = append(nodes, f.Server())
			}
			return c.Addrs(), nodes
		}},
		{"zookeeper", func(b *testing.B) ([]string, []*server.Server) {
			return []string{zkpeer.StartT(b, zkpeer.Options{}).Addr}, nil
		}},
	}
	workloads := []loadgen.Workload{loadgen.WorkloadCreate, loadgen.WorkloadSetData, loadgen.WorkloadGetData}
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			addrs, nodes := srv.start(b)
			for _, w := range workloads {
				b.Run(string(w), func(b *testing.B) {
					before := logCounters(nodes)
					cpu := processCPU()
					loadgentest.BenchConfig(b, loadgen.Config{Servers: addrs, Workload: w, Conns: 4, Goroutines: 16, ValueSize: 100})
					reportLogCounters(b, before, logCounters(nodes), processCPU()-cpu)
				})
			}
		})
	}
}

// logCounters reads each node's log counters, the leader's first.
func logCounters(nodes []*server.Server) []storage.LogCounters {
	out := make([]storage.LogCounters, len(nodes))
	for i, s := range nodes {
		out[i] = s.Cluster().RaftStats().Log
	}
	return out
}

// reportLogCounters reports how the operations shared log writes and fsyncs
// (the leader's entries per write, and the followers'), and this process's
// CPU per operation (servers and load generator together).
func reportLogCounters(b *testing.B, before, after []storage.LogCounters, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if len(before) == 0 {
		return
	}
	var syncs, fwrites, fentries uint64
	for i := range after {
		syncs += after[i].Syncs - before[i].Syncs
		if i > 0 {
			fwrites += after[i].Writes - before[i].Writes
			fentries += after[i].Entries - before[i].Entries
		}
	}
	lw, le := after[0].Writes-before[0].Writes, after[0].Entries-before[0].Entries
	if lw > 0 {
		b.ReportMetric(float64(le)/float64(lw), "leader-entries/write")
	}
	if fwrites > 0 {
		b.ReportMetric(float64(fentries)/float64(fwrites), "follower-entries/write")
	}
	b.ReportMetric(float64(le)/float64(b.N), "entries/op")
	b.ReportMetric(float64(syncs)/float64(b.N), "fsyncs/op")
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
