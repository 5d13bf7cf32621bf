package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herd-io/herd/internal/loadgen"
)

// sample is one timed run.
type sample struct {
	opsPerSec float64
	p50, p99  time.Duration
	cpuPerOp  time.Duration
	errors    int
}

func (o options) config(addrs []string, w loadgen.Workload, d time.Duration) loadgen.Config {
	return loadgen.Config{Servers: addrs, Workload: w, Conns: o.conns, Goroutines: o.goroutines,
		Duration: d, ValueSize: o.valueSize, Children: o.children, Watchers: o.watchers}
}

// measure runs one workload against t and samples its CPU over the run.
func measure(ctx context.Context, o options, t *target, w loadgen.Workload, d time.Duration) (sample, error) {
	var cpu0, cpu1 time.Duration
	var cpuErr error
	cfg := o.config(t.addrs(), w, d)
	cfg.Measure = func(start bool) {
		c, err := t.cpu()
		if err != nil {
			cpuErr = err
		}
		if start {
			cpu0 = c
		} else {
			cpu1 = c
		}
	}
	res, err := loadgen.Run(ctx, cfg, nil)
	if err != nil {
		return sample{}, fmt.Errorf("%s %s: %w", t.name, w, err)
	}
	if cpuErr != nil {
		return sample{}, fmt.Errorf("%s: cpu: %w", t.name, cpuErr)
	}
	s := sample{opsPerSec: res.OpsPerSec, p50: res.P50, p99: res.P99, errors: res.Errors}
	if res.Ops > 0 {
		s.cpuPerOp = (cpu1 - cpu0) / time.Duration(res.Ops)
	}
	return s, nil
}

// runTable compares the workloads for every server-set size.
func runTable(ctx context.Context, o options, root string) error {
	for _, n := range o.nodes {
		var targets []*target
		for _, k := range kinds(o) {
			t, err := startTarget(ctx, k, n, root, o.herdBin, o.zkCP, o.zkHeap)
			if err != nil {
				for _, t := range targets {
					t.stop()
				}
				return err
			}
			targets = append(targets, t)
		}
		err := compareOn(ctx, o, targets)
		for _, t := range targets {
			t.stop()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func compareOn(ctx context.Context, o options, targets []*target) error {
	warm := min(o.duration, 3*time.Second)
	fmt.Printf("\n%s: warming up (one untimed %v run per workload and server)\n", nodesLabel(targets), warm)
	for _, w := range o.workloads {
		for _, t := range targets {
			if _, err := measure(ctx, o, t, w, warm); err != nil {
				return err
			}
		}
	}
	samples := map[string]map[loadgen.Workload][]sample{}
	for _, t := range targets {
		samples[t.name] = map[loadgen.Workload][]sample{}
	}
	for r := 0; r < o.runs; r++ {
		for _, w := range o.workloads {
			order := targets
			if r%2 == 1 {
				order = reversed(targets)
			}
			for _, t := range order {
				s, err := measure(ctx, o, t, w, o.duration)
				if err != nil {
					return err
				}
				samples[t.name][w] = append(samples[t.name][w], s)
			}
		}
		fmt.Printf("  run %d of %d done, load %s\n", r+1, o.runs, loadavg())
	}
	printTable(o, targets, samples)
	return nil
}

func nodesLabel(ts []*target) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.name)
	}
	return strings.Join(s, " vs ")
}

func reversed(ts []*target) []*target {
	out := make([]*target, len(ts))
	for i, t := range ts {
		out[len(ts)-1-i] = t
	}
	return out
}

func medianOf(ss []sample) sample {
	pick := func(less func(a, b sample) bool) sample {
		c := append([]sample(nil), ss...)
		sort.Slice(c, func(i, j int) bool { return less(c[i], c[j]) })
		return c[len(c)/2]
	}
	m := sample{}
	m.opsPerSec = pick(func(a, b sample) bool { return a.opsPerSec < b.opsPerSec }).opsPerSec
	m.p50 = pick(func(a, b sample) bool { return a.p50 < b.p50 }).p50
	m.p99 = pick(func(a, b sample) bool { return a.p99 < b.p99 }).p99
	m.cpuPerOp = pick(func(a, b sample) bool { return a.cpuPerOp < b.cpuPerOp }).cpuPerOp
	for _, s := range ss {
		m.errors += s.errors
	}
	return m
}

func printTable(o options, targets []*target, samples map[string]map[loadgen.Workload][]sample) {
	fmt.Printf("\n%s, %d conns × %d goroutines, %d-byte values, median of %d runs of %v\n",
		nodesLabel(targets), o.conns, o.goroutines, o.valueSize, o.runs, o.duration)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "workload\t"
	for _, t := range targets {
		hdr += t.name + " ops/s\t"
	}
	if len(targets) == 2 {
		hdr += "ratio\t"
	}
	for _, t := range targets {
		hdr += t.name + " p50\tp99\tCPU/op\t"
	}
	fmt.Fprintln(tw, hdr+"errors\t")
	for _, w := range o.workloads {
		row := string(w) + "\t"
		var med []sample
		errs := 0
		for _, t := range targets {
			m := medianOf(samples[t.name][w])
			med = append(med, m)
			errs += m.errors
			row += fmt.Sprintf("%.0f\t", m.opsPerSec)
		}
		if len(targets) == 2 && med[1].opsPerSec > 0 {
			row += fmt.Sprintf("%.2f×\t", med[0].opsPerSec/med[1].opsPerSec)
		}
		for _, m := range med {
			row += fmt.Sprintf("%v\t%v\t%v\t", round(m.p50), round(m.p99), round(m.cpuPerOp))
		}
		fmt.Fprintln(tw, row+fmt.Sprintf("%d\t", errs))
	}
	_ = tw.Flush()
	for _, t := range targets {
		hwm, _ := t.memory()
		fmt.Printf("%s peak RSS (VmHWM, largest node): %d MB\n", t.name, hwm>>20)
	}
	if len(targets) == 2 {
		fmt.Printf("ratio = %s ops/s ÷ %s ops/s; CPU/op = utime+stime of all nodes ÷ operations\n",
			targets[0].name, targets[1].name)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
