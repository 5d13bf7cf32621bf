package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProcFigures(t *testing.T) {
	pid := os.Getpid()
	if _, err := procCPU(pid); err != nil {
		t.Fatal(err)
	}
	hwm, rss := procMem(pid)
	if rss <= 0 || hwm < rss {
		t.Errorf("VmHWM %d, VmRSS %d", hwm, rss)
	}
	if _, err := procCPU(-1); err == nil {
		t.Error("procCPU of no process succeeded")
	}
}

func TestMedianOf(t *testing.T) {
	m := medianOf([]sample{
		{opsPerSec: 3, p50: 30, p99: 300, cpuPerOp: 3, errors: 1},
		{opsPerSec: 1, p50: 10, p99: 100, cpuPerOp: 1},
		{opsPerSec: 2, p50: 20, p99: 200, cpuPerOp: 2, errors: 2},
	})
	if m.opsPerSec != 2 || m.p50 != 20 || m.p99 != 200 || m.cpuPerOp != 2 || m.errors != 3 {
		t.Errorf("median %+v", m)
	}
}

// Both servers read the same zoo.cfg: one node has no server lines, an
// ensemble lists every member and turns standalone mode off.
func TestZooCfg(t *testing.T) {
	dir := t.TempDir()
	cfg, err := zooCfg(dir, 2, 2181, [][2]int{{1, 2}, {3, 4}, {5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfg)
	for _, want := range []string{"forceSync=yes", "clientPort=2181", "server.3=127.0.0.1:5:6", "standaloneEnabled=false"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("zoo.cfg lacks %q:\n%s", want, b)
		}
	}
	if id, _ := os.ReadFile(filepath.Join(dir, "myid")); string(id) != "2\n" {
		t.Errorf("myid %q", id)
	}
	one, _ := zooCfg(t.TempDir(), 1, 2181, [][2]int{{1, 2}})
	if b, _ := os.ReadFile(one); strings.Contains(string(b), "server.") {
		t.Errorf("one node with server lines:\n%s", b)
	}
}

func TestFdatasyncCost(t *testing.T) {
	p50, p99, err := fdatasyncCost(t.TempDir(), 10)
	if err != nil || p50 <= 0 || p99 < p50 || p99 > time.Minute {
		t.Errorf("p50 %v p99 %v err %v", p50, p99, err)
	}
}
