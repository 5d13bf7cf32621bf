// Package benchcmd implements `herd bench`: it runs a loadgen workload
// against a ZooKeeper-protocol server and prints throughput and latency.
package benchcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/herd-io/herd/internal/loadgen"
)

// Exit codes of Main.
const (
	ExitOK    = 0
	ExitError = 1 // the run failed
	ExitUsage = 2 // bad flags
)

// Main parses args (without the program and subcommand names), runs the
// benchmark and writes the report to stdout and diagnostics to stderr. It
// returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	servers := fs.String("server", "127.0.0.1:2181", "comma-separated host:port list of the servers")
	workload := fs.String("workload", string(loadgen.WorkloadMixed), "one of "+workloadNames())
	conns := fs.Int("conns", 4, "number of sessions")
	goroutines := fs.Int("goroutines", 16, "concurrent workers per session")
	duration := fs.Duration("duration", 10*time.Second, "how long to run (0 = until -ops)")
	ops := fs.Int("ops", 0, "stop after this many operations (0 = no cap)")
	valueSize := fs.Int("value-size", 100, "bytes written per create or setData")
	children := fs.Int("children", loadgen.DefaultChildren, "znodes under the parent that getChildren lists")
	watchers := fs.Int("watchers", loadgen.DefaultWatchers, "watches each watch-workload change fires")
	prefix := fs.String("prefix", loadgen.DefaultKeyPrefix, "parent znode of the run's znodes")
	verbose := fs.Bool("v", false, "log client events")
	progress := fs.Duration("progress", time.Second, "print running totals to stderr this often (0 = never)")
	output := fs.String("o", "text", "output `format`: text or json (one object on stdout; errors and progress as JSON lines on stderr)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: herd bench [flags]\n\nRuns a workload against a ZooKeeper-protocol server.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herd bench: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return ExitUsage
	}
	var out printer
	switch *output {
	case "text":
		out = textPrinter{stdout, stderr}
	case "json":
		out = jsonPrinter{stdout, stderr}
	default:
		fmt.Fprintf(stderr, "herd bench: unknown output format %q (want text or json)\n", *output)
		return ExitUsage
	}
	w, err := loadgen.ParseWorkload(*workload)
	if err != nil {
		out.error(err)
		return ExitUsage
	}
	cfg := loadgen.Config{
		Servers: splitServers(*servers), Workload: w, Conns: *conns, Goroutines: *goroutines,
		Duration: *duration, Ops: *ops, ValueSize: *valueSize, KeyPrefix: *prefix,
		Children: *children, Watchers: *watchers,
	}
	if *progress > 0 {
		cfg.Progress, cfg.ProgressInterval = out.progress, *progress
	}
	level := zapcore.WarnLevel
	if *verbose {
		level = zapcore.DebugLevel
	}
	log := newLogger(stderr, level)
	defer func() { _ = log.Sync() }()

	res, err := loadgen.Run(ctx, cfg, log)
	if errors.Is(err, loadgen.ErrConfig) {
		out.error(err)
		return ExitUsage
	}
	if res.Ops+res.Errors > 0 {
		out.result(res)
	}
	if err != nil {
		out.error(err)
		return ExitError
	}
	return ExitOK
}

func splitServers(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func workloadNames() string {
	names := make([]string, len(loadgen.Workloads))
	for i, w := range loadgen.Workloads {
		names[i] = string(w)
	}
	return strings.Join(names, ", ")
}

// newLogger writes human-readable log lines to w.
func newLogger(w io.Writer, level zapcore.Level) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), level)
	return zap.New(core)
}
