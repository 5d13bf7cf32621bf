// Command job-queue is a distributed job queue on herd's WorkQueue:
// producers put jobs, any number of consumer processes run them, a job whose
// handler fails is retried with backoff, and one that keeps failing ends up
// in the queue's dead-letter child. Kill a consumer in the middle of a job
// and the job is run again by another consumer once the killed one's session
// has expired: jobs are run at least once, so a job must be safe to repeat.
// Here a job's work is recording itself under the results path, which is
// idempotent.
//
// Start a server (herd or ZooKeeper on 127.0.0.1:2181) and try:
//
//	go run ./cmd/herd serve
//	go run ./examples/job-queue produce -n 20 -flaky 3 -poison 1
//	go run ./examples/job-queue consume -work 2s &   # start two or three;
//	go run ./examples/job-queue consume -work 2s &   # kill -9 one mid-job
//	go run ./examples/job-queue status
//
// Jobs named flaky-N fail their first attempt; jobs named poison-N always
// fail and end as dead letters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes"
	"github.com/herd-io/herd/recipes/queue"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: job-queue produce|consume|status [flags]
run "job-queue <command> -h" for a command's flags`

// run runs one command and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("job-queue "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "127.0.0.1:2181", "ZooKeeper connect string (host:port[,host:port][/chroot])")
	path := fs.String("path", "/jobs", "the queue's znode")
	results := fs.String("results", "/jobs-done", "where jobs record that they ran")
	session := fs.Duration("session", 15*time.Second, "session timeout: how long a killed consumer holds its jobs")
	var cmd func(context.Context, *framework.Client, *queue.WorkQueue, io.Writer) error
	switch args[0] {
	case "produce":
		n := fs.Int("n", 10, "number of ordinary jobs")
		flaky := fs.Int("flaky", 0, "number of jobs that fail their first attempt")
		poison := fs.Int("poison", 0, "number of jobs that always fail")
		cmd = func(ctx context.Context, _ *framework.Client, q *queue.WorkQueue, out io.Writer) error {
			return produce(ctx, q, out, *n, *flaky, *poison)
		}
	case "consume":
		concurrency := fs.Int("concurrency", 2, "jobs run at once by this process")
		work := fs.Duration("work", 0, "how long each job takes")
		cmd = func(ctx context.Context, c *framework.Client, q *queue.WorkQueue, out io.Writer) error {
			return consume(ctx, c, q, out, *results, *concurrency, *work)
		}
	case "status":
		cmd = func(ctx context.Context, c *framework.Client, q *queue.WorkQueue, out io.Writer) error {
			return status(ctx, c, q, out, *results)
		}
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	maxAttempts := fs.Int("max-attempts", 3, "attempts before a job becomes a dead letter")
	backoff := fs.Duration("backoff", 500*time.Millisecond, "delay before the first retry (doubling up to 10x)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}

	c, err := framework.New(*server, framework.WithSessionTimeout(*session))
	if err != nil {
		fmt.Fprintln(stderr, "job-queue:", err)
		return 1
	}
	defer c.Close()
	q := recipes.NewWorkQueue(c, *path,
		queue.WithMaxAttempts(*maxAttempts),
		queue.WithRetryBackoff(*backoff, 10**backoff),
		queue.WithLogger(zap.NewNop()))
	if err := cmd(ctx, c, q, stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "job-queue:", err)
		return 1
	}
	return 0
}

func produce(ctx context.Context, q *queue.WorkQueue, out io.Writer, n, flaky, poison int) error {
	put := func(kind string, count int) error {
		for i := range count {
			if err := q.Put(ctx, fmt.Appendf(nil, "%s-%d", kind, i)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, k := range []struct {
		kind  string
		count int
	}{{"job", n}, {"flaky", flaky}, {"poison", poison}} {
		if err := put(k.kind, k.count); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "put %d jobs\n", n+flaky+poison)
	return nil
}

// consume runs jobs until ctx ends.
func consume(ctx context.Context, c *framework.Client, q *queue.WorkQueue, out io.Writer, results string, concurrency int, work time.Duration) error {
	var mu sync.Mutex // handlers and the state listener print from several goroutines
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	defer c.AddListener(func(s framework.ConnectionState) { say("connection: %s", s) })()
	say("consuming")
	return q.Consume(ctx, concurrency, func(ctx context.Context, data []byte) error {
		job := string(data)
		say("start %s", job)
		if work > 0 {
			t := time.NewTimer(work)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done(): // the claim may be lost, or we are stopping
				say("interrupted %s", job)
				return ctx.Err()
			}
		}
		switch {
		case strings.HasPrefix(job, "poison-"):
			say("failed %s", job)
			return errors.New("poisoned")
		case strings.HasPrefix(job, "flaky-"):
			// Fail the first attempt: the marker says it was tried.
			_, err := c.Create(ctx, results+"/"+job+".tried", nil, framework.WithParents())
			if err == nil {
				say("failed %s (first attempt)", job)
				return errors.New("transient failure")
			}
			if !errors.Is(err, zk.ErrNodeExists) {
				return err
			}
		}
		// The job's effect. Creating the node is idempotent: a job run twice
		// (after a consumer died) finds it there.
		_, err := c.Create(ctx, results+"/"+job, nil, framework.WithParents())
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return err
		}
		say("done %s", job)
		return nil
	})
}

func status(ctx context.Context, c *framework.Client, q *queue.WorkQueue, out io.Writer, results string) error {
	n, err := q.Len(ctx)
	if err != nil {
		return err
	}
	kids, _, err := c.Children(ctx, results)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return err
	}
	done := 0
	for _, k := range kids {
		if !strings.HasSuffix(k, ".tried") {
			done++
		}
	}
	dead, err := q.DeadLetters(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "queued: %d\ndone: %d\ndead letters: %d\n", n, done, len(dead))
	for _, d := range dead {
		fmt.Fprintf(out, "  %s after %d attempts (%s)\n", d.Data, d.Attempts, d.Path)
	}
	return nil
}
