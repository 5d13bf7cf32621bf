package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
)

// childArgs makes the test binary run job-queue with these arguments
// (separated by newlines) instead of the tests: the consumer the test kills.
const childArgs = "JOB_QUEUE_TEST_CHILD"

// Both servers run with a 200 ms tick, so that the killed consumer's 1 s
// session may expire in 1 s (the default 2 s tick makes 4 s the minimum).
var zookeeper = zkpeer.Shared{Options: zkpeer.Options{TickTime: 200}}

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		os.Exit(run(context.Background(), strings.Split(a, "\n"), os.Stdout, os.Stderr))
	}
	code := m.Run()
	zookeeper.Stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for the consumer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestJobQueue: producers put ordinary, flaky and poisoned jobs; a consumer
// process takes two jobs and is SIGKILLed in the middle of them; a second
// consumer runs every job (the killed one's jobs once its session expired,
// the flaky ones after a retry) and the poisoned job ends as a dead letter.
// Against herd (configured as `herd serve` runs it, but for the tick) and ZooKeeper.
func TestJobQueue(t *testing.T) {
	for _, tg := range []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"herd", func(t *testing.T) string { return herdtest.Start(t, herdtest.WithTickTime(200*time.Millisecond)).Addr }},
		{"zookeeper", func(t *testing.T) string { return zookeeper.Addr(t) }},
	} {
		t.Run(tg.name, func(t *testing.T) { testJobQueue(t, tg.addr(t)) })
	}
}

func testJobQueue(t *testing.T, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	root := fmt.Sprintf("/%s-%d", t.Name(), time.Now().UnixNano()) // unique on a shared server
	base := []string{"-server", addr, "-path", root + "/jobs", "-results", root + "/done",
		"-backoff", "20ms", "-session", "1s"}
	cmd := func(name string, extra ...string) []string { return append(append([]string{name}, base...), extra...) }

	var out syncBuffer
	if code := run(ctx, cmd("produce", "-n", "12", "-flaky", "2", "-poison", "1"), &out, &out); code != 0 {
		t.Fatalf("produce exited %d: %s", code, out.String())
	}

	// A consumer whose jobs take an hour: it holds two when it is killed.
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childArgs+"="+strings.Join(cmd("consume", "-concurrency", "2", "-work", "1h"), "\n"))
	child.Stderr = os.Stderr
	pipe, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan string)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if job, ok := strings.CutPrefix(sc.Text(), "start "); ok {
				select {
				case started <- job:
				case <-ctx.Done():
				}
			}
		}
	}()
	var held []string
	for range 2 {
		select {
		case job := <-started:
			held = append(held, job)
		case <-ctx.Done():
			t.Fatal("the child consumer never started two jobs")
		}
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	<-scanned

	cctx, stop := context.WithCancel(ctx)
	var log syncBuffer
	consumed := make(chan int, 1)
	go func() { consumed <- run(cctx, cmd("consume", "-concurrency", "4"), &log, &log) }()
	want := "queued: 0\ndone: 14\ndead letters: 1\n"
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var st syncBuffer
		if code := run(ctx, cmd("status"), &st, &st); code != 0 {
			t.Fatalf("status exited %d: %s", code, st.String())
		}
		if strings.HasPrefix(st.String(), want) {
			if !strings.Contains(st.String(), "poison-0 after 3 attempts") {
				t.Fatalf("status:\n%s", st.String())
			}
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("jobs not all done; last status:\n%s\nconsumer log:\n%s", st.String(), log.String())
		}
	}
	stop()
	if code := <-consumed; code != 0 {
		t.Fatalf("consume exited %d: %s", code, log.String())
	}
	for _, job := range held {
		if !strings.Contains(log.String(), "done "+job+"\n") {
			t.Errorf("%s, held by the killed consumer, was not run again:\n%s", job, log.String())
		}
	}
	for _, line := range []string{"failed flaky-0 (first attempt)", "done flaky-0", "failed poison-0"} {
		if !strings.Contains(log.String(), line) {
			t.Errorf("consumer log lacks %q:\n%s", line, log.String())
		}
	}
}
