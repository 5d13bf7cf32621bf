package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes"
)

// childArgs, when set in the environment, makes the test binary run as one
// pool member with these arguments instead of running tests: the test starts
// members as real processes so that it can SIGKILL one.
const childArgs = "WORKER_POOL_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgs); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli(ctx, strings.Fields(args), os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

const waitFor = 60 * time.Second

// TestWorkerPool runs three members, kills the leader with SIGKILL, then adds
// a member. After each step every task is assigned to exactly one live
// member, loads are balanced, and each member's own report of its tasks
// matches the assignments: none lost, none doubled.
func TestWorkerPool(t *testing.T) {
	testtarget.Each(t, 500*time.Millisecond, func(t *testing.T, tg testtarget.Target) {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		root := "/worker-pool-test"
		obs, err := framework.New(tg.Addr(), framework.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))))
		if err != nil {
			t.Fatal(err)
		}
		defer obs.Close()

		members := map[string]*member{}
		for _, id := range []string{"w1", "w2", "w3"} {
			members[id] = startMember(t, tg.Addr(), root, id)
		}
		settled(ctx, t, obs, root, members)

		leader, err := recipes.NewLeaderSelector(obs, root+"/election", "").Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		killed := members[leader]
		if killed == nil {
			t.Fatalf("leader %q is not a member", leader)
		}
		killed.kill(t)
		delete(members, leader)
		settled(ctx, t, obs, root, members)
		next, err := recipes.NewLeaderSelector(obs, root+"/election", "").Leader(ctx)
		if err != nil || members[next] == nil || !members[next].saidLeader() {
			t.Fatalf("after killing %s: leader %q (%v), not a live member that took over", leader, next, err)
		}

		members["w4"] = startMember(t, tg.Addr(), root, "w4")
		settled(ctx, t, obs, root, members)

		// A member that is not leader leaves cleanly (SIGTERM).
		var leaving string
		for _, id := range []string{"w1", "w2", "w3"} {
			if members[id] != nil && id != next {
				leaving = id
				break
			}
		}
		members[leaving].stop(t)
		delete(members, leaving)
		settled(ctx, t, obs, root, members)
		t.Logf("killed leader %s; %s took over; w4 joined; %s left", leader, next, leaving)
	})
}

// settled waits until the pool's state is final for the given live members
// and checks it.
func settled(ctx context.Context, t *testing.T, c *framework.Client, root string, live map[string]*member) {
	t.Helper()
	ids := make([]string, 0, len(live))
	for id := range live {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var why string
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if why = check(ctx, c, root, ids, live); why == "" {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("pool never settled with %v: %s", ids, why)
		}
	}
}

// check returns "" when the pool is settled, or what is not yet right.
func check(ctx context.Context, c *framework.Client, root string, ids []string, live map[string]*member) string {
	workers, err := c.SortedChildren(ctx, root+"/workers")
	if err != nil || !slices.Equal(workers, ids) {
		return fmt.Sprintf("workers %v (%v)", workers, err)
	}
	tasks, err := c.SortedChildren(ctx, root+"/tasks")
	if err != nil || len(tasks) != 12 {
		return fmt.Sprintf("tasks %v (%v)", tasks, err)
	}
	byOwner := map[string][]string{}
	for _, task := range tasks {
		data, _, err := c.Get(ctx, root+"/assignments/"+task)
		if err != nil {
			return fmt.Sprintf("assignment %s: %v", task, err)
		}
		owner := string(data)
		if live[owner] == nil {
			return fmt.Sprintf("%s assigned to %q", task, owner)
		}
		byOwner[owner] = append(byOwner[owner], task)
	}
	lo, hi := len(tasks), 0
	for _, id := range ids {
		n := len(byOwner[id])
		lo, hi = min(lo, n), max(hi, n)
		if got := live[id].owns(); !slices.Equal(got, byOwner[id]) {
			return fmt.Sprintf("%s reports %v, assigned %v", id, got, byOwner[id])
		}
	}
	if hi-lo > 1 {
		return fmt.Sprintf("unbalanced %v", byOwner)
	}
	return ""
}

// member is one pool process.
type member struct {
	id   string
	cmd  *exec.Cmd
	done chan struct{}

	mu     sync.Mutex
	last   []string // tasks of the latest "owns" line
	leader bool
	lines  []string
}

func startMember(t *testing.T, addr, root, id string) *member {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=-server %s -root %s -id %s -tasks 12 -session-timeout 2s", childArgs, addr, root, id))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m := &member{id: id, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			m.see(sc.Text())
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(waitFor):
			_ = cmd.Process.Kill()
			<-m.done
		}
		if t.Failed() {
			m.mu.Lock()
			t.Logf("%s printed:\n%s", id, strings.Join(m.lines, "\n"))
			m.mu.Unlock()
		}
	})
	return m
}

func (m *member) see(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = append(m.lines, line)
	switch {
	case line == "leader "+m.id:
		m.leader = true
	case strings.HasPrefix(line, "worker "+m.id+" owns "):
		m.last = nil
		if s := strings.TrimPrefix(line, "worker "+m.id+" owns "); s != "-" {
			m.last = strings.Split(s, ",")
		}
	}
}

func (m *member) owns() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.last)
}

func (m *member) saidLeader() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leader
}

// stop asks the process to leave (SIGTERM) and waits until it has.
func (m *member) stop(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-m.done
	if code := m.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited with %d after SIGTERM", m.id, code)
	}
}

// kill ends the process with SIGKILL: no cleanup, its session expires.
func (m *member) kill(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-m.done
}
