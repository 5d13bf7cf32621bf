// Command herd is herd's one binary: a ZooKeeper-compatible coordination server
// (herd serve, and herd dev for a local cluster), cluster membership (herd
// cluster), a zkCli-compatible shell (herd shell) and a load generator (herd
// bench).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/herd-io/herd/cmd/herd/internal/benchcmd"
	"github.com/herd-io/herd/cmd/herd/internal/shell"
	"github.com/herd-io/herd/server/fourlw"
)

const usage = `usage: herd <command> [flags]

commands:
  serve    run a herd server node (ZooKeeper wire protocol on port 2181)
  dev      run a local cluster in this process (-nodes 3) and print its connect string
  cluster  list, add or remove a cluster's members
  shell    a zkCli-compatible shell for herd or ZooKeeper
  bench    measure a server's throughput and latency
  check    verify a stopped node's log and snapshots (--data-dir DIR)
  snapshot save a running node's data to a file, or seed a new node from one
  version  print herd's version, the ZooKeeper version it emulates, and its commit
           (also herd --version, herd -v)

Run "herd <command> -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "dev":
		return dev(ctx, args[1:], stdout, stderr)
	case "cluster":
		return clusterCmd(ctx, args[1:], stdout, stderr)
	case "shell":
		return shell.Main(ctx, args[1:], stdin, stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "snapshot":
		return snapshotCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchcmd.Main(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version", "-v":
		info, _ := debug.ReadBuildInfo()
		fmt.Fprint(stdout, versionText(info))
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "herd: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// versionText is what herd version prints: herd's own version (the module
// version the Go toolchain stamped, "devel" for a build from a work tree
// without one), the ZooKeeper release whose protocol it speaks, the commit
// it was built from, and the Go toolchain.
func versionText(info *debug.BuildInfo) string {
	own, commit := ownVersion(info), "unknown (built without version control information)"
	goVersion := runtime.Version()
	if info != nil {
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		var rev, when string
		var modified bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			commit = rev
			if when != "" {
				commit += " (" + when + ")"
			}
			if modified {
				commit += ", with uncommitted changes"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "herd %s\n", own)
	fmt.Fprintf(&b, "zookeeper %s (the protocol and four-letter words herd serves)\n", fourlw.Version)
	fmt.Fprintf(&b, "commit %s\n", commit)
	fmt.Fprintf(&b, "go %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// ownVersion is herd's own version from the build information: the module
// version (v0.3.0 for go install ...@v0.3.0; v0.0.0-<time>-<commit> for a
// go build in a git checkout), or "devel".
func ownVersion(info *debug.BuildInfo) string {
	if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
