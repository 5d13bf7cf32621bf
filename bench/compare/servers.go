package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herd-io/herd/internal/freeport"
)

// target is one running server set: herd ×n or ZooKeeper ×n.
type target struct {
	name  string // "herd×3"
	kind  string // "herd" or "zookeeper"
	nodes []*node
}

// node is one server process.
type node struct {
	addr string
	cmd  *exec.Cmd
	args []string // to start it again
	log  string
}

func (t *target) addrs() []string {
	var a []string
	for _, n := range t.nodes {
		a = append(a, n.addr)
	}
	return a
}

// cpu returns the processes' user+system CPU time so far.
func (t *target) cpu() (time.Duration, error) {
	var sum time.Duration
	for _, n := range t.nodes {
		d, err := procCPU(n.cmd.Process.Pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// memory returns the largest VmHWM and VmRSS of the processes, in bytes.
func (t *target) memory() (hwm, rss int64) {
	for _, n := range t.nodes {
		h, r := procMem(n.cmd.Process.Pid)
		hwm, rss = max(hwm, h), max(rss, r)
	}
	return hwm, rss
}

func (t *target) stop() {
	for _, n := range t.nodes {
		n.stop()
	}
}

// stop ends the process with SIGTERM, and SIGKILL after 20s.
func (n *node) stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
	n.cmd = nil
}

// start runs the node's command again, appending to its log.
func (n *node) start() error {
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(n.args[0], n.args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	go func() { _ = cmd.Wait(); logf.Close() }()
	n.cmd = cmd
	return nil
}

// procCPU reads utime+stime from /proc/PID/stat (USER_HZ is 100 on Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	// After the command: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond, nil
}

// procMem reads VmHWM and VmRSS from /proc/PID/status.
func procMem(pid int) (hwm, rss int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			hwm = kb << 10
		case "VmRSS":
			rss = kb << 10
		}
	}
	return hwm, rss
}

func freePort() (int, error) { return freeport.Pick() }

// zooCfg writes the zoo.cfg both servers read: the same tick, limits and
// (ZooKeeper's default) forceSync=yes; herd always fsyncs its log.
func zooCfg(dir string, id int, clientPort int, peers [][2]int) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\n", dir)
	fmt.Fprintf(&b, "clientPort=%d\nclientPortAddress=127.0.0.1\n", clientPort)
	b.WriteString("admin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\nforceSync=yes\n")
	if len(peers) > 1 {
		b.WriteString("standaloneEnabled=false\n")
		for j, p := range peers {
			fmt.Fprintf(&b, "server.%d=127.0.0.1:%d:%d\n", j+1, p[0], p[1])
		}
	}
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte(fmt.Sprintf("%d\n", id)), 0o644); err != nil {
		return "", err
	}
	return cfg, os.WriteFile(cfg, []byte(b.String()), 0o644)
}

// startTarget starts kind ×n under root and waits until every node serves.
func startTarget(ctx context.Context, kind string, n int, root, herdBin, zkClasspath, heap string) (*target, error) {
	t := &target{name: fmt.Sprintf("%s×%d", kind, n), kind: kind}
	clientPorts := make([]int, n)
	peers := make([][2]int, n)
	for i := range n {
		var err error
		if clientPorts[i], err = freePort(); err != nil {
			return nil, err
		}
		if peers[i][0], err = freePort(); err != nil {
			return nil, err
		}
		if peers[i][1], err = freePort(); err != nil {
			return nil, err
		}
	}
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("%s%d-%d", kind, n, i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		cfg, err := zooCfg(dir, i+1, clientPorts[i], peers)
		if err != nil {
			return nil, err
		}
		nd := &node{addr: fmt.Sprintf("127.0.0.1:%d", clientPorts[i]), log: filepath.Join(dir, kind+".log")}
		switch kind {
		case "herd":
			nd.args = []string{herdBin, "serve", "--config", cfg, "--log-level", "warn"}
		default:
			nd.args = []string{"java", "-Xmx" + heap, "-Dzookeeper.log.dir=" + dir, "-cp", zkClasspath,
				"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg}
		}
		if serverCPUs != "" {
			// taskset execs the server: the pid, whose CPU time is read, is
			// the server's.
			nd.args = append([]string{"taskset", "-c", serverCPUs}, nd.args...)
		}
		if err := nd.start(); err != nil {
			t.stop()
			return nil, fmt.Errorf("start %s: %w", t.name, err)
		}
		t.nodes = append(t.nodes, nd)
	}
	if err := t.waitServing(ctx, 90*time.Second); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// waitServing waits until every node answers srvr with a serving mode.
func (t *target) waitServing(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, nd := range t.nodes {
		for {
			out, err := fourLetter(nd.addr, "srvr")
			if err == nil && (strings.Contains(out, "Mode: standalone") || strings.Contains(out, "Mode: leader") ||
				strings.Contains(out, "Mode: follower")) {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				tail, _ := os.ReadFile(nd.log)
				if len(tail) > 2000 {
					tail = tail[len(tail)-2000:]
				}
				return fmt.Errorf("%s node %s not serving after %v (last: %v %q)\nlog tail:\n%s",
					t.name, nd.addr, limit, err, out, tail)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func fourLetter(addr, word string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, word); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) {
		return string(b), err
	}
	return string(b), nil
}
