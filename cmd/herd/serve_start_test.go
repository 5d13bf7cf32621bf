package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer for a log that goroutines write.
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

// serveOnce runs herd serve, which must exit by itself (refusing to start)
// within a generous limit; a hang fails the test instead of blocking it.
func serveOnce(t *testing.T, args ...string) (code int, stderr string) {
	t.Helper()
	return runOnce(t, serve, args...)
}

// runOnce runs one of herd's commands as serveOnce runs serve.
func runOnce(t *testing.T, cmd func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- cmd(ctx, args, io.Discard, &errOut) }()
	select {
	case code = <-done:
		return code, errOut.String()
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("%q did not exit; log so far:\n%s", args, errOut.String())
		return 0, ""
	}
}

// TestServeRefusesStrayArguments: a positional argument is refused by name
// (flag parsing stops at it, so the flags after it would be dropped), and
// nothing is created. The other commands that take no arguments refuse them
// too.
func TestServeRefusesStrayArguments(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // where the default data dir would go
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	dir := filepath.Join(t.TempDir(), "data")
	checkCmd := func(_ context.Context, args []string, stdout, stderr io.Writer) int {
		return check(args, stdout, stderr)
	}
	for _, c := range []struct {
		name string
		cmd  func(context.Context, []string, io.Writer, io.Writer) int
		args []string
	}{
		{"serve", serve, []string{"extra-arg", "--listen", "127.0.0.1:0", "--data-dir", dir}},
		{"dev", dev, []string{"extra-arg", "--data-dir", dir}},
		{"cluster", clusterCmd, []string{"list", "extra-arg", "-server", "127.0.0.1:1", "-timeout", "1s"}},
		{"check", checkCmd, []string{"--data-dir", dir, "extra-arg"}},
	} {
		code, log := runOnce(t, c.cmd, c.args...)
		if code != 2 || !strings.Contains(log, `unexpected argument "extra-arg"`) {
			t.Errorf("herd %s %q: exit %d, stderr %q; want 2 naming the argument", c.name, c.args, code, log)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data dir created: %v", err)
	}
}

// TestServeRefusesDataDirInUse: a second herd serve on a data dir a running
// one holds exits 1 at once, naming the dir and the holder's pid, instead of
// waiting on the log store's lock; once the first stops, the dir is free.
func TestServeRefusesDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	_, stop, status := startServe(t, "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error")
	code, log := serveOnce(t, "--listen", "127.0.0.1:0", "--data-dir", dir)
	want := fmt.Sprintf("data dir %s is in use by another herd, pid %d", dir, os.Getpid())
	if code != 1 || !strings.Contains(log, want) {
		t.Errorf("second serve: exit %d, log:\n%s\nwant exit 1 and %q", code, log, want)
	}
	stop()
	if code := <-status; code != 0 {
		t.Fatalf("first serve: exit %d", code)
	}
	_, stop, status = startServe(t, "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error")
	stop()
	if code := <-status; code != 0 {
		t.Fatalf("serve after the first stopped: exit %d", code)
	}
}

// TestServeRefusesDataDirInUseByAnotherProcess: the same across processes,
// with the other herd's pid in the message; the holder is this test binary
// re-run as herd serve.
func TestServeRefusesDataDirInUseByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), reexecEnv+"="+strings.Join([]string{"serve", "--admin-addr", "off", "--listen", "127.0.0.1:0",
		"--data-dir", dir, "--log-level", "error"}, "\n"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var childLog syncBuffer
	cmd.Stderr = &childLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serving := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if !found && servingLine.MatchString(sc.Text()) {
				found = true
				serving <- true
			}
		}
		if !found {
			serving <- false
		}
	}()
	if !<-serving {
		_ = cmd.Wait()
		t.Fatalf("the other herd did not start:\n%s", childLog.String())
	}

	code, log := serveOnce(t, "--listen", "127.0.0.1:0", "--data-dir", dir)
	want := fmt.Sprintf("data dir %s is in use by another herd, pid %d", dir, cmd.Process.Pid)
	if code != 1 || !strings.Contains(log, want) {
		t.Errorf("serve: exit %d, log:\n%s\nwant exit 1 and %q", code, log, want)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the other herd: %v\n%s", err, childLog.String())
	}
}

// TestServeRefusesPortInUse: a client (or, for a cluster member, peer)
// address in use is refused at once, naming the address, before the data
// dir is created or an election held.
func TestServeRefusesPortInUse(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	port := strconv.Itoa(held.Addr().(*net.TCPAddr).Port)

	t.Run("client", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		code, log := serveOnce(t, "--listen", addr, "--data-dir", dir)
		if code != 1 || !strings.Contains(log, "client address "+addr) || !strings.Contains(log, "address already in use") {
			t.Errorf("exit %d, log:\n%s\nwant exit 1 naming %s", code, log, addr)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("data dir created: %v", err)
		}
	})
	t.Run("peer", func(t *testing.T) {
		other, err := net.Listen("tcp", "127.0.0.1:0") // the election port: any valid one
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		election := strconv.Itoa(other.Addr().(*net.TCPAddr).Port)
		dir := filepath.Join(t.TempDir(), "data")
		code, log := serveOnce(t, "--listen", "127.0.0.1:0", "--data-dir", dir, "--myid", "1",
			"--server", "1=127.0.0.1:"+port+":"+election)
		if code != 1 || !strings.Contains(log, "server.1 peer address "+addr) {
			t.Errorf("exit %d, log:\n%s\nwant exit 1 naming %s", code, log, addr)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("data dir created: %v", err)
		}
	})
}

// TestServeDefaultDataDir: without --data-dir the data lives in the XDG data
// dir, and the start-up line says where; a data dir an older herd left in
// the cache dir is used (never silently left behind) with a warning to move
// it, until the new one exists.
func TestServeDefaultDataDir(t *testing.T) {
	start := func(t *testing.T) (line, log string) {
		t.Helper()
		var logs syncBuffer
		line, stop, status := startServeLine(t, &logs, "--listen", "127.0.0.1:0", "--log-level", "warn")
		stop()
		if code := <-status; code != 0 {
			t.Fatalf("exit %d:\n%s", code, logs.String())
		}
		return line, logs.String()
	}
	wantDir := func(t *testing.T, line, dir string) {
		t.Helper()
		if !strings.Contains(line, "(data dir "+dir+")") {
			t.Errorf("start-up line %q does not name data dir %s", line, dir)
		}
		if _, err := os.Stat(filepath.Join(dir, "raft", "wal")); err != nil {
			t.Errorf("no raft log in %s: %v", dir, err)
		}
	}
	home := func(t *testing.T) string {
		h := t.TempDir()
		t.Setenv("HOME", h)
		t.Setenv("XDG_DATA_HOME", "")
		t.Setenv("XDG_CACHE_HOME", filepath.Join(h, "cache"))
		return h
	}

	t.Run("home", func(t *testing.T) {
		h := home(t)
		line, log := start(t)
		wantDir(t, line, filepath.Join(h, ".local", "share", "herd"))
		if strings.Contains(log, "older herd") {
			t.Errorf("warned about an old data dir that is not there:\n%s", log)
		}
	})
	t.Run("XDG_DATA_HOME", func(t *testing.T) {
		home(t)
		xdg := t.TempDir()
		t.Setenv("XDG_DATA_HOME", xdg)
		line, _ := start(t)
		wantDir(t, line, filepath.Join(xdg, "herd"))
	})
	t.Run("old dir kept", func(t *testing.T) {
		h := home(t)
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		old, now := filepath.Join(cache, "herd", "data"), filepath.Join(h, ".local", "share", "herd")
		if err := os.MkdirAll(old, 0o755); err != nil {
			t.Fatal(err)
		}
		line, log := start(t)
		wantDir(t, line, old)
		if !strings.Contains(log, "move it") || !strings.Contains(log, now) {
			t.Errorf("no warning to move %s to %s:\n%s", old, now, log)
		}
		if _, err := os.Stat(now); !os.IsNotExist(err) {
			t.Errorf("%s created beside the old data dir", now)
		}
		// Once moved, the new place is used.
		if err := os.MkdirAll(filepath.Dir(now), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(old, now); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(old, 0o755); err != nil {
			t.Fatal(err)
		}
		line, log = start(t)
		wantDir(t, line, now)
		if strings.Contains(log, "older herd") {
			t.Errorf("warned although the new data dir exists:\n%s", log)
		}
	})
}

// TestDevRefusesDataDirInUse: herd dev --data-dir takes its members' dirs as
// serve does, and is refused at once on one a running herd holds.
func TestDevRefusesDataDirInUse(t *testing.T) {
	root := t.TempDir()
	held := filepath.Join(root, "n1")
	_, stop, status := startServe(t, "--listen", "127.0.0.1:0", "--data-dir", held, "--log-level", "error")
	defer func() {
		stop()
		if code := <-status; code != 0 {
			t.Errorf("serve: exit %d", code)
		}
	}()
	code, log := runOnce(t, dev, "--nodes", "1", "--data-dir", root, "--log-level", "error")
	want := fmt.Sprintf("data dir %s is in use by another herd, pid %d", held, os.Getpid())
	if code != 1 || !strings.Contains(log, want) {
		t.Errorf("dev: exit %d, log:\n%s\nwant exit 1 and %q", code, log, want)
	}
}
