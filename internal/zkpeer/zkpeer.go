// Package zkpeer starts real Apache ZooKeeper servers (Debian's `zookeeper`
// package) for tests that compare herd with ZooKeeper or that test the client
// framework against the reference implementation.
//
// When the package is not installed, Require fails the test if the CI
// environment variable is set (CI must have every peer) and skips it otherwise,
// so `go test ./...` still passes on a fresh development machine.
package zkpeer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/freeport"
)

// Jar is where Debian installs the ZooKeeper server jar.
const Jar = "/usr/share/java/zookeeper.jar"

// ConfDir holds Debian's log4j configuration for ZooKeeper.
const ConfDir = "/etc/zookeeper/conf"

// ServletJar is the servlet API ZooKeeper's AdminServer (Jetty) needs; Debian's
// zookeeper.jar does not name it in its Class-Path (package libservlet-api-java).
const ServletJar = "/usr/share/java/servlet-api.jar"

// ZkCli is Debian's zkCli.sh.
const ZkCli = "/usr/share/zookeeper/bin/zkCli.sh"

// ErrMissing reports that a peer program is not installed.
var ErrMissing = errors.New("zkpeer: peer not installed")

// Require checks that each file exists. If one is missing it fails t when running
// in CI (CI installs every peer through .ci/run) and skips t elsewhere.
func Require(t testing.TB, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing in CI: .ci/run must install it (%v)", f, err)
			}
			t.Skipf("%s not installed; run .ci/run or apt-get install the peers", f)
		}
	}
}

// Server is one running Apache ZooKeeper standalone server.
type Server struct {
	// Addr is the client address, host:port on 127.0.0.1.
	Addr string
	// Dir is the server's data directory.
	Dir string
	// AdminURL is the AdminServer's base URL, http://127.0.0.1:port, when
	// Options.AdminServer is set.
	AdminURL string

	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// Options adjusts the server's zoo.cfg.
type Options struct {
	// TickTime in milliseconds; 0 means 2000 (ZooKeeper's default).
	TickTime int
	// Extra lines appended to zoo.cfg.
	Extra []string
	// ExtendedTypes turns on TTL nodes (zookeeper.extendedTypesEnabled).
	ExtendedTypes bool
	// AdminServer runs ZooKeeper's AdminServer on a free loopback port
	// (Server.AdminURL); it needs ServletJar.
	AdminServer bool
}

// Start launches a standalone ZooKeeper on a free loopback port and waits until
// it serves requests. The caller must Stop it.
func Start(ctx context.Context, dir string, opts Options) (*Server, error) {
	if _, err := os.Stat(Jar); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMissing, Jar)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	tick := opts.TickTime
	if tick == 0 {
		tick = 2000
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	cfg := []string{
		"tickTime=" + strconv.Itoa(tick),
		"dataDir=" + data,
		"clientPort=" + strconv.Itoa(port),
		"clientPortAddress=127.0.0.1",
		"4lw.commands.whitelist=*",
		"maxClientCnxns=0",
	}
	classPath := ConfDir + ":" + Jar
	adminURL := ""
	if opts.AdminServer {
		if _, err := os.Stat(ServletJar); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrMissing, ServletJar)
		}
		adminPort, err := freePort()
		if err != nil {
			return nil, err
		}
		cfg = append(cfg, "admin.enableServer=true", "admin.serverAddress=127.0.0.1", "admin.serverPort="+strconv.Itoa(adminPort))
		classPath += ":" + ServletJar
		adminURL = "http://127.0.0.1:" + strconv.Itoa(adminPort)
	} else {
		cfg = append(cfg, "admin.enableServer=false")
	}
	cfg = append(cfg, opts.Extra...)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"}
	if opts.ExtendedTypes {
		args = append(args, "-Dzookeeper.extendedTypesEnabled=true")
	}
	if !opts.AdminServer {
		args = append(args, "-Dzookeeper.admin.enableServer=false")
	}
	args = append(args, "-cp", classPath, "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd := exec.Command("java", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("zkpeer: start java: %w", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, AdminURL: adminURL, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// StartT starts a server for a test (skipping or failing per Require) and stops it
// when the test ends.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t, Jar)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start ZooKeeper: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// ruok answers imok before the server serves; srvr prints Mode: only once it does.
		if out, err := FourLetter(s.Addr, "srvr", time.Second); err == nil && strings.Contains(out, "Mode:") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("zkpeer: ZooKeeper on %s not ready: %w (log %s)", s.Addr, ctx.Err(), s.log.Name())
		case <-s.done:
			return fmt.Errorf("zkpeer: ZooKeeper exited early (log %s): %s", s.log.Name(), tail(s.log.Name()))
		case <-tick.C:
		}
	}
}

// Stop kills the server and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-s.done
	s.log.Close()
}

// FourLetter sends a four-letter word to addr and returns the whole answer.
func FourLetter(addr, cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return "", err
	}
	var sb strings.Builder
	r := bufio.NewReader(c)
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String(), nil
}

func freePort() (int, error) { return freeport.Pick() }

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
