//go:build measure

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestMeasureFailover measures what clients see when the leader of a
// three-node cluster dies (SIGKILL) or freezes (SIGSTOP, thawed after
// MEASURE_STOP, default 10s): the time from the fault to the first write
// issued after it that is acknowledged, the longest stretch with no write
// acknowledged, whether every session survived, and whether every
// acknowledged write is there at the end. It is a measurement, not a test:
//
//	MEASURE_TARGET=herd|zookeeper MEASURE_FAULT=kill|stop \
//	  go test -tags measure -run TestMeasureFailover -v -timeout 5m ./integration/
//
// ZooKeeper runs through /work/shared/tools/zk-ensemble.sh (tickTime 2000,
// syncLimit 5, as its defaults); herd through three `herd serve --config`
// processes with herd's default timing.
func TestMeasureFailover(t *testing.T) {
	target := envOr("MEASURE_TARGET", "herd")
	fault := envOr("MEASURE_FAULT", "kill")
	stopFor, _ := time.ParseDuration(envOr("MEASURE_STOP", "10s"))
	writers, _ := strconv.Atoi(envOr("MEASURE_WRITERS", "8"))
	sessionTimeout := 6 * time.Second

	var addrs []string
	var leaderPID func() (int, string)
	switch target {
	case "herd":
		c := startProcCluster(t, 3)
		addrs = c.addrs()
		leaderPID = func() (int, string) {
			l := c.leader(addrs)
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.cmd.Process.Pid, l.addr
		}
	case "zookeeper":
		addrs, leaderPID = startZKEnsemble(t)
	default:
		t.Fatalf("MEASURE_TARGET %q", target)
	}

	setup, _ := zkConnect(t, addrs, 10*time.Second)
	if _, err := setup.Create("/m", nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
		t.Fatal(err)
	}
	type ack struct{ sent, done time.Time }
	var mu sync.Mutex
	var acks []ack
	var acked []string
	var expired int
	sessions := make([]int64, writers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		zc, ev, err := zk.Connect(addrs, sessionTimeout, zk.WithLogger(discardLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		defer zc.Close()
		waitSession(t, ev)
		sessions[w] = zc.SessionID()
		go func() {
			for e := range ev {
				if e.State == zk.StateExpired {
					mu.Lock()
					expired++
					mu.Unlock()
				}
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/m/w%d-%d", w, i)
				sent := time.Now()
				if _, err := zc.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err == nil {
					done := time.Now()
					mu.Lock()
					acks = append(acks, ack{sent, done})
					acked = append(acked, p)
					mu.Unlock()
				} else if err == zk.ErrNodeExists {
					// A create whose reply was lost and that the client retried
					// cannot happen here (go-zookeeper does not retry); count it.
					mu.Lock()
					acked = append(acked, p)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(3 * time.Second) // warm up: the load is steady before the fault
	pid, leaderAddr := leaderPID()
	t0 := time.Now()
	switch fault {
	case "kill":
		_ = syscall.Kill(pid, syscall.SIGKILL)
		time.Sleep(5 * time.Second)
	case "stop":
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		time.Sleep(stopFor)
		_ = syscall.Kill(pid, syscall.SIGCONT)
		time.Sleep(5 * time.Second)
	default:
		t.Fatalf("MEASURE_FAULT %q", fault)
	}
	close(stop)
	wg.Wait()
	end := time.Now()

	mu.Lock()
	defer mu.Unlock()
	sort.Slice(acks, func(i, j int) bool { return acks[i].done.Before(acks[j].done) })
	first := time.Duration(-1)
	for _, a := range acks {
		if a.sent.After(t0) {
			first = a.done.Sub(t0)
			break
		}
	}
	var stall time.Duration
	var stallAt time.Duration
	prev := t0.Add(-time.Second)
	for _, a := range acks {
		if a.done.Before(prev) {
			continue
		}
		if g := a.done.Sub(prev); g > stall {
			stall, stallAt = g, prev.Sub(t0)
		}
		prev = a.done
	}
	if g := end.Sub(prev); g > stall {
		stall, stallAt = g, prev.Sub(t0)
	}
	during := 0
	if fault == "stop" {
		for _, a := range acks {
			if a.done.After(t0) && a.done.Before(t0.Add(stopFor)) {
				during++
			}
		}
	}
	// Every acknowledged create must be there, read through a survivor.
	var survivors []string
	for _, a := range addrs {
		if a != leaderAddr {
			survivors = append(survivors, a)
		}
	}
	check, _ := zkConnect(t, survivors, 10*time.Second)
	if _, err := check.Sync("/m"); err != nil {
		t.Fatal(err)
	}
	kids, _, err := check.Children("/m")
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool, len(kids))
	for _, k := range kids {
		have["/m/"+k] = true
	}
	lost := 0
	for _, p := range acked {
		if !have[p] {
			lost++
		}
	}
	mode := "?"
	if out, err := fourLetterWord(leaderAddr, "srvr"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			if m, ok := strings.CutPrefix(l, "Mode: "); ok {
				mode = m
			}
		}
	}
	t.Logf("target=%s fault=%s writers=%d session=%v", target, fault, writers, sessionTimeout)
	t.Logf("acknowledged writes: %d in %.1fs; lost: %d; sessions expired: %d", len(acks), end.Sub(t0.Add(-3*time.Second)).Seconds(), lost, expired)
	t.Logf("failover (fault → first write issued after it acknowledged): %v", first)
	t.Logf("longest stretch without an acknowledged write: %v (starting %v after the fault)", stall.Round(time.Millisecond), stallAt.Round(time.Millisecond))
	if fault == "stop" {
		t.Logf("writes acknowledged while the old leader was frozen: %d; its mode after thawing: %s", during, mode)
	}
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost", lost)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// startZKEnsemble starts ZooKeeper ×3 with the shared script.
func startZKEnsemble(t *testing.T) ([]string, func() (int, string)) {
	t.Helper()
	const script = "/work/shared/tools/zk-ensemble.sh"
	base := 2400 + os.Getpid()%400
	out, err := exec.Command("bash", script, "start", "3", strconv.Itoa(base)).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("bash", script, "stop", "3", strconv.Itoa(base)).Run() })
	var addrs []string
	for i := 1; i <= 3; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", base+i))
	}
	leader := func() (int, string) {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			// Debian's ZooKeeper prints a build date FLWSrvr cannot parse.
			for i, a := range addrs {
				if out, err := fourLetterWord(a, "srvr"); err == nil && strings.Contains(out, "Mode: leader\n") {
					b, err := os.ReadFile(filepath.Join(fmt.Sprintf("/tmp/zkpeer-%d/n%d", base, i+1), "pid"))
					if err != nil {
						t.Fatal(err)
					}
					pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
					return pid, addrs[i]
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal("no ZooKeeper leader")
		return 0, ""
	}
	return addrs, leader
}
