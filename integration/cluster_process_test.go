package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/internal/freeport"
)

// Multi-process clusters: real `herd serve --config` processes started from
// ZooKeeper-style files, through a zkServer.sh-style shim as go-zookeeper's
// own test harness starts ZooKeeper.

var (
	herdBinOnce sync.Once
	herdBinPath string
	herdBinErr  error
	herdBinDir  string
)

// herdBin builds cmd/herd once per test binary.
func herdBin(t *testing.T) string {
	t.Helper()
	herdBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herd-integration-")
		if err != nil {
			herdBinErr = err
			return
		}
		herdBinDir = dir
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		herdBinPath = filepath.Join(dir, "herd")
		cmd := exec.Command("go", "build", "-o", herdBinPath, "./cmd/herd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			herdBinErr = fmt.Errorf("go build ./cmd/herd: %v\n%s", err, out)
		}
	})
	if herdBinErr != nil {
		t.Fatal(herdBinErr)
	}
	return herdBinPath
}

func removeHerdBinary() {
	if herdBinDir != "" {
		os.RemoveAll(herdBinDir)
	}
}

// zkServerShim writes a zkServer.sh that runs herd in ZooKeeper's place:
// `zkServer.sh start-foreground zoo.cfg`, as go-zookeeper's harness calls it.
func zkServerShim(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zkServer.sh")
	script := "#!/bin/sh\n" +
		"# zkServer.sh start-foreground <zoo.cfg>, served by herd.\n" +
		"[ \"$1\" = start-foreground ] || { echo \"usage: zkServer.sh start-foreground zoo.cfg\" >&2; exit 2; }\n" +
		"exec " + herdBin(t) + " serve --config \"$2\" --log-level ${HERD_LOG_LEVEL:-warn}\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// procServer is one member run as a process.
type procServer struct {
	id     int
	addr   string
	config string
	log    string
	shim   string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// procCluster is a cluster of herd processes.
type procCluster struct {
	t       *testing.T
	servers []*procServer
}

// freeTCPPort returns a port nothing listens on now and not handed out
// before: the members' files must name every port before any member starts.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startProcCluster writes each member's zoo.cfg and dataDir/myid as
// go-zookeeper's harness does (tickTime 500, initLimit 10, syncLimit 5,
// reconfigEnabled, every four-letter word, standaloneEnabled=false, the
// server.N lines), starts them all and waits until srvr answers on each.
//
// The files must name every port before any member starts, so the ports are
// picked free and may be taken by another process before a member binds
// them (an outgoing connection's ephemeral port, say). A member that exits
// at start because a port was taken makes it start again on fresh ports.
func startProcCluster(t *testing.T, n int) *procCluster {
	t.Helper()
	shim := zkServerShim(t)
	for attempt := 1; ; attempt++ {
		c := tryProcCluster(t, n, shim)
		err := c.waitServing()
		if err == nil {
			return c
		}
		c.killAll()
		if !errors.Is(err, errPortTaken) || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; again on fresh ports", attempt, err)
	}
}

// errPortTaken reports a member that could not bind one of its ports.
var errPortTaken = errors.New("a port was taken before the member bound it")

func tryProcCluster(t *testing.T, n int, shim string) *procCluster {
	t.Helper()
	root := t.TempDir()
	type ports struct{ client, peer, election int }
	ps := make([]ports, n)
	for i := range ps {
		ps[i] = ports{freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)}
	}
	c := &procCluster{t: t}
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("srv%d", i+1))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "admin.enableServer=false\ndataDir=%s\ntickTime=500\ninitLimit=10\nsyncLimit=5\n", dir)
		fmt.Fprintf(&b, "clientPort=%d\nclientPortAddress=127.0.0.1\n", ps[i].client)
		b.WriteString("reconfigEnabled=true\n4lw.commands.whitelist=*\nstandaloneEnabled=false\n")
		for j := range n {
			fmt.Fprintf(&b, "server.%d=127.0.0.1:%d:%d\n", j+1, ps[j].peer, ps[j].election)
		}
		cfg := filepath.Join(dir, "zoo.cfg")
		if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "myid"), []byte(fmt.Sprintf("%d\n", i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		c.servers = append(c.servers, &procServer{id: i + 1, addr: fmt.Sprintf("127.0.0.1:%d", ps[i].client),
			config: cfg, log: filepath.Join(dir, "herd.log"), shim: shim})
	}
	t.Cleanup(func() {
		c.killAll()
		if t.Failed() {
			for _, s := range c.servers {
				if b, err := os.ReadFile(s.log); err == nil {
					t.Logf("server.%d log:\n%s", s.id, b)
				}
			}
		}
	})
	for _, s := range c.servers {
		s.start(t)
	}
	return c
}

// killAll SIGKILLs every member and waits until they are gone.
func (c *procCluster) killAll() {
	for _, s := range c.servers {
		s.kill()
	}
}

func (s *procServer) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s.shim, "start-foreground", s.config)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
}

// signal sends sig to the running process, if any.
func (s *procServer) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// wait waits for the process to exit.
func (s *procServer) wait() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// kill SIGKILLs the member and waits until it is gone.
func (s *procServer) kill() {
	s.signal(syscall.SIGKILL)
	s.wait()
}

func (c *procCluster) addrs() []string {
	var out []string
	for _, s := range c.servers {
		out = append(out, s.addr)
	}
	return out
}

func (c *procCluster) byAddr(addr string) *procServer {
	for _, s := range c.servers {
		if strings.HasSuffix(addr, s.addr[strings.LastIndex(s.addr, ":"):]) {
			return s
		}
	}
	c.t.Fatalf("no server at %s", addr)
	return nil
}

// waitServing waits until srvr answers with a mode on every member, as
// go-zookeeper's waitForStart does.
func (c *procCluster) waitServing() error {
	c.t.Helper()
	var exited error
	waitUntil(c.t, "every member to serve", func() bool {
		for _, s := range c.servers {
			if s.exited() {
				b, _ := os.ReadFile(s.log)
				exited = fmt.Errorf("server.%d exited at start:\n%s", s.id, b)
				if bytes.Contains(b, []byte("address already in use")) {
					exited = fmt.Errorf("%w: %w", errPortTaken, exited)
				}
				return true
			}
		}
		_, ok := zk.FLWSrvr(c.addrs(), time.Second)
		return ok
	})
	return exited
}

// exited reports whether the member's process has ended.
func (s *procServer) exited() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// leader returns the member whose srvr says leader.
func (c *procCluster) leader(among []string) *procServer {
	c.t.Helper()
	var found *procServer
	waitUntil(c.t, "a leader", func() bool {
		stats, _ := zk.FLWSrvr(among, time.Second)
		for _, st := range stats {
			if st.Error == nil && st.Mode == zk.ModeLeader {
				found = c.byAddr(st.Server)
				return true
			}
		}
		return false
	})
	return found
}

// TestProcessClusterSurvivesLeaderSIGKILL: three `herd serve --config`
// processes; a client writing through all of them; the leader is SIGKILLed;
// the other two elect a leader and go on, and every acknowledged write is
// there.
func TestProcessClusterSurvivesLeaderSIGKILL(t *testing.T) {
	c := startProcCluster(t, 3)
	leader := c.leader(c.addrs())
	var rest []string
	for _, s := range c.servers {
		if s != leader {
			rest = append(rest, s.addr)
		}
	}
	w := startWriter(t, c.addrs(), "/sigkill")
	waitUntil(t, "writes before the kill", func() bool { return w.count() >= 30 })
	leader.kill()
	n := w.count()
	waitUntil(t, "writes through a new leader", func() bool { return w.count() >= n+30 })
	newLeader := c.leader(rest)
	w.halt()
	r, _ := zkConnect(t, []string{newLeader.addr}, 10*time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.acked {
		if ok, _, err := r.Exists(p); err != nil || !ok {
			t.Fatalf("acknowledged %s missing after the leader's SIGKILL: %v", p, err)
		}
	}
}

// sessionEvents watches a go-zookeeper event channel for session states,
// like go-zookeeper's EventLogger: each wait returns the next matching event
// after it was asked for.
type sessionEvents struct {
	mu       sync.Mutex
	watchers []*stateWatcher
	wg       sync.WaitGroup
}

type stateWatcher struct {
	state zk.State
	ch    chan zk.Event
	fired bool
}

func watchSessionEvents(ev <-chan zk.Event) *sessionEvents {
	s := &sessionEvents{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for e := range ev {
			if e.Type != zk.EventSession {
				continue
			}
			s.mu.Lock()
			for _, w := range s.watchers {
				if !w.fired && w.state == e.State {
					w.fired = true
					w.ch <- e
				}
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *sessionEvents) next(state zk.State) *stateWatcher {
	w := &stateWatcher{state: state, ch: make(chan zk.Event, 1)}
	s.mu.Lock()
	s.watchers = append(s.watchers, w)
	s.mu.Unlock()
	return w
}

// wait returns the event, or nil after d.
func (w *stateWatcher) wait(d time.Duration) *zk.Event {
	select {
	case e := <-w.ch:
		return &e
	case <-time.After(d):
		return nil
	}
}

// TestGoZKBasicCluster does what go-zookeeper's TestBasicCluster does: a
// create through one member, sync and read through another.
func TestGoZKBasicCluster(t *testing.T) {
	c := startProcCluster(t, 3)
	c1, _ := zkConnect(t, []string{c.servers[0].addr}, 15*time.Second)
	c2, _ := zkConnect(t, []string{c.servers[1].addr}, 15*time.Second)
	if _, err := c1.Create("/gozk-test", []byte("foo-cluster"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create on node 1: %v", err)
	}
	if _, err := c2.Sync("/gozk-test"); err != nil {
		t.Fatalf("sync on node 2: %v", err)
	}
	if by, _, err := c2.Get("/gozk-test"); err != nil || string(by) != "foo-cluster" {
		t.Fatalf("get on node 2: %q, %v", by, err)
	}
}

// TestGoZKClientClusterFailover does what go-zookeeper's
// TestClientClusterFailover does: the member a session is on dies, the
// session re-establishes elsewhere and reads what it wrote.
func TestGoZKClientClusterFailover(t *testing.T) {
	c := startProcCluster(t, 3)
	zc, ev, err := zk.Connect(c.addrs(), 15*time.Second, zk.WithLogger(discardLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	sl := watchSessionEvents(ev)
	defer sl.wg.Wait()
	defer zc.Close()
	first := sl.next(zk.StateHasSession).wait(8 * time.Second)
	if first == nil {
		t.Fatal("no session")
	}
	if _, err := zc.Create("/gozk-test", []byte("foo-cluster"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	again := sl.next(zk.StateHasSession)
	c.byAddr(first.Server).kill()
	if again.wait(8*time.Second) == nil {
		t.Fatal("failover failed")
	}
	if by, _, err := zc.Get("/gozk-test"); err != nil || string(by) != "foo-cluster" {
		t.Fatalf("get after failover: %q, %v", by, err)
	}
}

// TestGoZKNoQuorum does what go-zookeeper's TestNoQuorum does: with two of
// three members dead the last one drops every connection attempt (and only
// it is tried successfully), the session outlives its timeout while there is
// no quorum, and when a member comes back the session re-attaches with its
// id and stays up.
func TestGoZKNoQuorum(t *testing.T) {
	c := startProcCluster(t, 3)
	zc, ev, err := zk.Connect(c.addrs(), 4*time.Second, zk.WithLogger(discardLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	sl := watchSessionEvents(ev)
	defer sl.wg.Wait()
	defer zc.Close()
	has1 := sl.next(zk.StateHasSession).wait(8 * time.Second)
	if has1 == nil {
		t.Fatal("no session")
	}
	sid := zc.SessionID()

	disc1, has2w := sl.next(zk.StateDisconnected), sl.next(zk.StateHasSession)
	c.byAddr(has1.Server).kill()
	if e := disc1.wait(8 * time.Second); e == nil || e.Server != has1.Server {
		t.Fatalf("first disconnect: %+v, want one from %s", e, has1.Server)
	}
	has2 := has2w.wait(8 * time.Second)
	if has2 == nil {
		t.Fatal("no session after the first kill")
	}

	disc2 := sl.next(zk.StateDisconnected)
	c.byAddr(has2.Server).kill()
	if e := disc2.wait(8 * time.Second); e == nil || e.Server != has2.Server {
		t.Fatalf("second disconnect: %+v, want one from %s", e, has2.Server)
	}
	// Without quorum the last member takes the connection and drops it, over
	// and over, for longer than the session timeout.
	var firstDrop *zk.Event
	for begin := time.Now(); time.Since(begin) < 5*time.Second; {
		e := sl.next(zk.StateDisconnected).wait(4 * time.Second)
		if e == nil {
			t.Fatal("no disconnect while without quorum")
		}
		if firstDrop == nil {
			firstDrop = e
		} else if e.Server != firstDrop.Server {
			t.Fatalf("disconnect from %s, want only %s", e.Server, firstDrop.Server)
		}
	}

	has3w := sl.next(zk.StateHasSession)
	restarted := c.byAddr(has1.Server)
	restarted.start(t)
	if has3w.wait(15*time.Second) == nil {
		t.Fatal("the session did not come back with the quorum")
	}
	if zc.SessionID() != sid {
		t.Fatalf("session %#x after the quorum came back, want %#x", zc.SessionID(), sid)
	}
	if e := sl.next(zk.StateDisconnected).wait(3 * time.Second); e != nil {
		t.Fatalf("disconnected again from %s", e.Server)
	}
}
