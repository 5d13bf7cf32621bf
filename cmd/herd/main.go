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
	"syscall"

	"github.com/herd-io/herd/cmd/herd/internal/benchcmd"
	"github.com/herd-io/herd/cmd/herd/internal/shell"
)

const usage = `usage: herd <command> [flags]

commands:
  serve    run a herd server node (ZooKeeper wire protocol on port 2181)
  dev      run a local cluster in this process (-nodes 3) and print its connect string
  cluster  list, add or remove a cluster's members
  shell    a zkCli-compatible shell for herd or ZooKeeper
  bench    measure a server's throughput and latency
  version  print herd's version

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
	case "bench":
		return benchcmd.Main(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "herd", version())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "herd: unknown command %q\n\n%s", args[0], usage)
	return 2
}
