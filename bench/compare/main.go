// Command compare runs herd and Apache ZooKeeper side by side on this
// machine and prints a table of medians with ratios.
//
// It starts ZooKeeper (Debian's package `zookeeper`: apt-get install
// zookeeper) and herd, each as 1 and as 3 processes on loopback with the
// same zoo.cfg (tickTime 2000, forceSync=yes; herd always fsyncs), warms
// both with one untimed run of every workload (ZooKeeper's JIT), then
// alternates timed runs herd/ZooKeeper, ZooKeeper/herd, ... and prints, per
// workload, the median throughput of each and their ratio, median p50 and
// p99, each server set's CPU time per operation (utime+stime of every node
// from /proc/PID/stat, summed) and its peak RSS (VmHWM of the largest node).
//
//	go run ./bench/compare                                  # the default table
//	go run ./bench/compare -nodes 3 -workloads lock,recipeLock
//	go run ./bench/compare -nodes 1 -conns 1 -goroutines 1 -workloads create
//	go run ./bench/compare -mode restart -znodes 1000000   # restart and memory per znode
//	go run ./bench/compare -mode scale                      # 1M znodes, 10k sessions, 100k watches
//
// The machine is usually shared: the load average is printed before and
// after, and only ratios from one run mean anything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herd-io/herd/internal/loadgen"
)

type options struct {
	nodes      []int
	workloads  []loadgen.Workload
	runs       int
	duration   time.Duration
	conns      int
	goroutines int
	valueSize  int
	children   int
	watchers   int
	herdBin    string
	zkCP       string
	zkHeap     string
	only       string // "herd", "zookeeper" or "" for both
	mode       string
	znodes     int
	sessions   int
	watches    int
	loadBatch  int
	keep       bool
}

func main() {
	var o options
	nodes := flag.String("nodes", "1,3", "server-set sizes to compare, comma-separated")
	workloads := flag.String("workloads", "create,setData,getData,exists,mixed",
		"workloads, comma-separated, of: "+names())
	flag.IntVar(&o.runs, "runs", 3, "timed runs per workload and server")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each run")
	flag.IntVar(&o.conns, "conns", 4, "sessions per run")
	flag.IntVar(&o.goroutines, "goroutines", 16, "workers per session")
	flag.IntVar(&o.valueSize, "value-size", 100, "bytes per write")
	flag.IntVar(&o.children, "children", loadgen.DefaultChildren, "getChildren: parent size")
	flag.IntVar(&o.watchers, "watchers", loadgen.DefaultWatchers, "watch: watchers per change")
	flag.StringVar(&o.herdBin, "herd", "", "herd binary (default: go build ./cmd/herd into a temporary directory)")
	flag.StringVar(&o.zkCP, "zk-classpath", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar", "ZooKeeper's Java class path")
	flag.StringVar(&o.zkHeap, "zk-heap", "2g", "ZooKeeper's -Xmx")
	flag.StringVar(&o.only, "only", "", "run only herd or only zookeeper")
	flag.StringVar(&o.mode, "mode", "table", "table (workloads), restart (load -znodes, measure memory, restart, time to serve) or scale (-znodes, -sessions, -watches, then fire the watches)")
	flag.IntVar(&o.znodes, "znodes", 1_000_000, "restart, scale: znodes of -value-size bytes under one parent")
	flag.IntVar(&o.loadBatch, "load-batch", 200, "restart, scale: creates per multi request when loading (1: plain creates from conns × goroutines workers)")
	flag.IntVar(&o.sessions, "sessions", 10_000, "scale: sessions")
	flag.IntVar(&o.watches, "watches", 100_000, "scale: data watches")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directories")
	flag.StringVar(&serverCPUs, "server-cpus", "", "run every server process on these CPUs (taskset -c list, e.g. 1)")
	clientCPUs := flag.String("client-cpus", "", "run this process, the load generator, on these CPUs (taskset -c list, e.g. 0)")
	flag.Parse()
	if *clientCPUs != "" && os.Getenv(pinnedEnv) == "" {
		pinSelf(*clientCPUs)
	}
	if o.conns < 1 || o.znodes < 1 {
		fatalf("-conns and -znodes must be at least 1")
	}
	for _, s := range strings.Split(*nodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatalf("bad -nodes %q", *nodes)
		}
		o.nodes = append(o.nodes, n)
	}
	for _, s := range strings.Split(*workloads, ",") {
		w, err := loadgen.ParseWorkload(strings.TrimSpace(s))
		if err != nil {
			fatalf("%v", err)
		}
		o.workloads = append(o.workloads, w)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	root, err := os.MkdirTemp("", "herd-compare-")
	if err != nil {
		fatalf("%v", err)
	}
	if !o.keep {
		defer os.RemoveAll(root)
	}
	if o.herdBin == "" {
		o.herdBin = filepath.Join(root, "herd")
		cmd := exec.Command("go", "build", "-o", o.herdBin, "./cmd/herd")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			fatalf("go build ./cmd/herd: %v\n%s", err, out)
		}
	}
	if _, err := exec.LookPath("java"); err != nil && o.only != "herd" {
		fatalf("java not found: apt-get install zookeeper (it brings a JRE)")
	}
	if _, err := os.Stat("/usr/share/java/zookeeper.jar"); err != nil && o.only != "herd" && o.zkCP == flag.Lookup("zk-classpath").DefValue {
		fatalf("ZooKeeper not installed: apt-get install zookeeper")
	}
	header(root)
	switch o.mode {
	case "table":
		err = runTable(ctx, o, root)
	case "restart":
		err = runRestart(ctx, o, root)
	case "scale":
		err = runScale(ctx, o, root)
	default:
		err = fmt.Errorf("unknown -mode %q", o.mode)
	}
	fmt.Printf("load average after: %s\n", loadavg())
	if err != nil {
		if !o.keep {
			os.RemoveAll(root) // fatalf skips the deferred removal
		}
		fatalf("%v", err)
	}
}

func names() string {
	var s []string
	for _, w := range loadgen.Workloads {
		s = append(s, string(w))
	}
	return strings.Join(s, ",")
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
	os.Exit(1)
}

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return "."
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

// serverCPUs is -server-cpus: the CPU list every server process is started
// on, or "" for no pinning.
var serverCPUs string

// pinnedEnv marks the process pinSelf started.
const pinnedEnv = "HERD_COMPARE_PINNED"

// pinSelf runs this command again under taskset -c cpus and exits with its
// status. The load generator then competes with no server for a CPU, as
// when clients run on machines of their own; with -server-cpus the servers
// share the other CPUs.
func pinSelf(cpus string) {
	exe, err := os.Executable()
	if err != nil {
		fatalf("-client-cpus: %v", err)
	}
	cmd := exec.Command("taskset", append([]string{"-c", cpus, exe}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), pinnedEnv+"=1")
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		fatalf("-client-cpus: taskset: %v", err)
	}
	os.Exit(0)
}

// header prints the date, the machine, the load and one fdatasync's cost
// on the data directory's disk.
func header(dir string) {
	model, cpus := "", 0 // the machine's, whatever this process is pinned to
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") && model == "" {
				_, model, _ = strings.Cut(l, ":")
			}
			if strings.HasPrefix(l, "processor") {
				cpus++
			}
		}
	}
	if cpus == 0 {
		cpus = runtime.NumCPU()
	}
	fmt.Printf("date %s, %d CPUs (%s), %s\n", time.Now().UTC().Format(time.RFC3339), cpus,
		strings.TrimSpace(model), runtime.Version())
	fmt.Printf("command: %s\n", strings.Join(os.Args, " "))
	if serverCPUs != "" || os.Getenv(pinnedEnv) != "" {
		fmt.Printf("pinned: servers on CPUs %q, load generator on %q\n", serverCPUs, cpuList())
	}
	fmt.Printf("load average before: %s\n", loadavg())
	if p50, p99, err := fdatasyncCost(dir, 500); err == nil {
		fmt.Printf("fdatasync of a 256-byte append on %s: p50 %v p99 %v (500 samples)\n", dir, p50, p99)
	}
}

// fdatasyncCost appends 256 bytes and fdatasyncs, n times.
func fdatasyncCost(dir string, n int) (p50, p99 time.Duration, err error) {
	f, err := os.CreateTemp(dir, "fsync-")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 256)
	d := make([]time.Duration, n)
	for i := range d {
		start := time.Now()
		if _, err := f.Write(buf); err != nil {
			return 0, 0, err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return 0, 0, err
		}
		d[i] = time.Since(start)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[n/2], d[n*99/100], nil
}

func kinds(o options) []string {
	if o.only != "" {
		return []string{o.only}
	}
	return []string{"herd", "zookeeper"}
}

// cpuList returns this process's allowed CPUs as /proc reports them.
func cpuList() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
