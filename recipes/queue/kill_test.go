package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
)

// childEnv makes the test binary run runChildConsumer instead of the tests.
const childEnv = "HERD_QUEUE_TEST_CHILD"

// runChildConsumer is the consumer process TestWorkQueueKilledConsumer
// kills. spec is "addr queuePath resultsPath". Items named hold-* are held
// forever (it prints "holding <item>" once it has one); others are done by
// creating a result node, as the test's own consumer does.
func runChildConsumer(spec string) int {
	parts := strings.Fields(spec)
	if len(parts) != 3 {
		fmt.Fprintln(os.Stderr, "bad child spec", spec)
		return 2
	}
	addr, path, results := parts[0], parts[1], parts[2]
	// A short session, so that the server notices the kill soon.
	c, err := framework.New(addr, framework.WithSessionTimeout(time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	err = NewWorkQueue(c, path).Consume(context.Background(), 3, func(ctx context.Context, data []byte) error {
		if strings.HasPrefix(string(data), "hold-") {
			mu.Lock()
			fmt.Printf("holding %s\n", data)
			mu.Unlock()
			<-ctx.Done() // until killed (or the claim is lost)
			return ctx.Err()
		}
		return doJob(ctx, c, results, data)
	})
	fmt.Fprintln(os.Stderr, "consume:", err)
	return 1
}

// doJob is the job both consumers do: record the item as done. Creating the
// result node is idempotent, as an at-least-once handler must be.
func doJob(ctx context.Context, c *framework.Client, results string, data []byte) error {
	_, err := c.Create(ctx, results+"/"+string(data), nil, framework.WithParents())
	if errors.Is(err, zk.ErrNodeExists) {
		return nil
	}
	return err
}

// TestWorkQueueKilledConsumer: a consumer in a child process takes items,
// two of them held mid-job, and is SIGKILLed. Its claims stay until the
// server expires its session; then the test's consumer gets the held items,
// and every item ends up done, none lost.
func TestWorkQueueKilledConsumer(t *testing.T) {
	eachTarget(t, func(t *testing.T, addr string) {
		ctx := testCtx(t)
		tp := testPath(t)
		p, results := tp+"/jobs", tp+"/results"
		obs := newClient(t, addr)
		q := NewWorkQueue(obs, p)
		var all []string
		for i := range 2 {
			all = append(all, fmt.Sprintf("hold-%d", i))
		}
		for i := range 20 {
			all = append(all, fmt.Sprintf("job-%d", i))
		}
		for _, it := range all {
			if err := q.Put(ctx, []byte(it)); err != nil {
				t.Fatal(err)
			}
		}

		child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), childEnv+"="+addr+" "+p+" "+results)
		child.Stderr = os.Stderr
		out, err := child.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		holding := make(chan string)
		scanned := make(chan struct{})
		go func() {
			defer close(scanned)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if h, ok := strings.CutPrefix(sc.Text(), "holding "); ok {
					select {
					case holding <- h:
					case <-ctx.Done():
					}
				}
			}
		}()
		for range 2 {
			select {
			case <-holding:
			case <-ctx.Done():
				t.Fatal("the child never held both items")
			}
		}
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		<-scanned
		// Killed mid-job: its claims are still there, until its session expires.
		if claims := children(t, obs, p+"/"+claimsDir); len(claims) < 2 {
			t.Fatalf("claims right after the kill: %v, want the two held items", claims)
		}

		stop := consume(t, NewWorkQueue(newClient(t, addr), p), 4, func(ctx context.Context, data []byte) error {
			return doJob(ctx, obs, results, data)
		})
		eventually(t, "every item done", func() bool { return len(children(t, obs, results)) == len(all) })
		eventually(t, "the queue empty", func() bool {
			l, err := q.Len(ctx)
			return err == nil && l == 0
		})
		stopped(t, stop())
		done := children(t, obs, results)
		for _, it := range all {
			if !strings.Contains(" "+strings.Join(done, " ")+" ", " "+it+" ") {
				t.Errorf("%s never done", it)
			}
		}
		noHolds(t, obs, p)
	})
}
