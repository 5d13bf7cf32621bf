// Command worker-pool is a leader-elected worker pool: every process is a
// worker, and one of them, elected with a LeaderSelector, is also the
// leader that assigns the pool's tasks to the live workers. When a worker
// joins, the leader moves tasks to it; when a worker (or the leader) dies,
// its tasks go to the others; no task is ever lost or held by two workers.
//
// Run a few in separate terminals against `go run ./cmd/herd serve` (or a
// ZooKeeper on 127.0.0.1:2181), then kill one, the leader included:
//
//	go run ./examples/worker-pool -id w1
//	go run ./examples/worker-pool -id w2
//	go run ./examples/worker-pool -id w3
//
// Each prints "leader <id>" when it becomes leader and "worker <id> owns
// task-00,task-03,..." whenever its share changes.
//
// Layout under -root (default /worker-pool):
//
//	election/_c_<uuid>-lock-<seq>   the LeaderSelector (data = id)
//	workers/<id>                    EPHEMERAL: one per live worker
//	tasks/task-NN                   the work, created by the first leader
//	assignments/task-NN             data "<id>": the task's owner; "<old>><new>" while
//	                                <old> hands it over (new starts once old has written "<new>")
//
// Every write the leader makes is a transaction that also checks its
// election node, so a leader that lost its session cannot change
// assignments after its successor started. A worker stops every task the
// moment its connection is SUSPENDED, and takes them up again only when it
// is back on the same session (after a LOST it rejoins and waits for new
// assignments).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// cli parses args and runs a pool member until ctx ends; it returns the exit
// status.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker-pool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host, _ := os.Hostname()
	cfg := config{}
	fs.StringVar(&cfg.server, "server", "127.0.0.1:2181", "ZooKeeper connect string (host:port[,host:port][/chroot])")
	fs.StringVar(&cfg.root, "root", "/worker-pool", "znode under which the pool lives")
	fs.StringVar(&cfg.id, "id", fmt.Sprintf("%s-%d", host, os.Getpid()), "this worker's id (unique in the pool)")
	fs.IntVar(&cfg.tasks, "tasks", 12, "number of tasks the first leader creates")
	fs.DurationVar(&cfg.sessionTimeout, "session-timeout", 10*time.Second, "ZooKeeper session timeout")
	verbose := fs.Bool("v", false, "log connection details")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.logger = zap.NewNop()
	if *verbose {
		l, err := zap.NewDevelopment()
		if err != nil {
			fmt.Fprintln(stderr, "worker-pool:", err)
			return 1
		}
		cfg.logger = l
	}
	if err := run(ctx, stdout, cfg); err != nil {
		fmt.Fprintln(stderr, "worker-pool:", err)
		return 1
	}
	return 0
}
