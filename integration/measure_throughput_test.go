//go:build measure

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/loadgen"
)

// TestMeasureThroughput runs the same workloads (4 sessions × 16 goroutines,
// 100-byte values, MEASURE_DURATION each, default 10s) against herd ×1 (one
// `herd serve`), herd ×3 (three `herd serve --config` processes) and
// ZooKeeper ×1 and ×3 (/work/shared/tools/zk-ensemble.sh), all with fsync on,
// every session given every server of its target, and prints a table. It is
// a measurement, not a test:
//
//	go test -tags measure -run TestMeasureThroughput -v -timeout 20m ./integration/
func TestMeasureThroughput(t *testing.T) {
	d, _ := time.ParseDuration(envOr("MEASURE_DURATION", "10s"))
	only := envOr("MEASURE_TARGETS", "herd×1,herd×3,zookeeper×1,zookeeper×3")
	type target struct {
		name  string
		start func(t *testing.T) []string
	}
	targets := []target{
		{"herd×1", func(t *testing.T) []string { return []string{startHerdProcess(t)} }},
		{"herd×3", func(t *testing.T) []string { return startProcCluster(t, 3).addrs() }},
		{"zookeeper×1", func(t *testing.T) []string { return startZK(t, 1) }},
		{"zookeeper×3", func(t *testing.T) []string { return startZK(t, 3) }},
	}
	workloads := []loadgen.Workload{loadgen.WorkloadCreate, loadgen.WorkloadSetData, loadgen.WorkloadGetData}
	var rows []string
	for _, tg := range targets {
		if !strings.Contains(only, tg.name) {
			continue
		}
		t.Run(tg.name, func(t *testing.T) {
			addrs := tg.start(t)
			for _, w := range workloads {
				res, err := loadgen.Run(context.Background(), loadgen.Config{Servers: addrs, Workload: w,
					Conns: 4, Goroutines: 16, ValueSize: 100, Duration: d}, nil)
				if err != nil {
					t.Fatalf("%s %s: %v", tg.name, w, err)
				}
				rows = append(rows, fmt.Sprintf("%-12s %-8s %9.0f ops/s  p50 %-8v p99 %-8v errors %d",
					tg.name, w, res.OpsPerSec, res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond), res.Errors))
			}
		})
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("load average before the last run: %s", strings.TrimSpace(string(load)))
	for _, r := range rows {
		t.Log(r)
	}
}

// startHerdProcess runs one `herd serve` and returns its address.
func startHerdProcess(t *testing.T) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "herd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(herdBin(t), "serve", "--admin-addr", "off", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	waitUntil(t, "herd to serve", func() bool {
		out, err := fourLetterWord(addr, "srvr")
		return err == nil && strings.Contains(out, "Mode: standalone")
	})
	return addr
}

// startZK runs ZooKeeper ×n with the shared script.
func startZK(t *testing.T, n int) []string {
	t.Helper()
	const script = "/work/shared/tools/zk-ensemble.sh"
	base := 2500 + 10*n + os.Getpid()%300
	out, err := exec.Command("bash", script, "start", strconv.Itoa(n), strconv.Itoa(base)).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("bash", script, "stop", strconv.Itoa(n), strconv.Itoa(base)).Run() })
	var addrs []string
	for i := 1; i <= n; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", base+i))
	}
	return addrs
}
