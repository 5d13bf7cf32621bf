package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herd-io/herd/internal/zkpeer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var servingLine = regexp.MustCompile(`serving ZooKeeper clients on (\S+) `)

// startServe runs `herd serve args...` until the returned cancel is called,
// and returns the address it listens on and a channel with its exit status.
func startServe(t *testing.T, args ...string) (addr string, cancel func(), status <-chan int) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				lines <- m[1]
			}
		}
	}()
	select {
	case addr = <-lines:
	case code := <-done:
		stop()
		t.Fatalf("serve exited with %d before serving", code)
	case <-time.After(30 * time.Second):
		stop()
		t.Fatal("serve did not start")
	}
	return addr, stop, done
}

func TestServeRunsAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	addr, stop, status := startServe(t, "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error")
	// ZooKeeper 3.8's default whitelist: srvr only.
	if got, err := zkpeer.FourLetter(addr, "srvr", 5*time.Second); err != nil || !strings.Contains(got, "Mode: standalone\n") {
		t.Fatalf("srvr = %q, %v", got, err)
	}
	if got, _ := zkpeer.FourLetter(addr, "ruok", 5*time.Second); got != "ruok is not executed because it is not in the whitelist.\n" {
		t.Fatalf("ruok = %q", got)
	}
	stop() // what SIGTERM does through signal.NotifyContext
	if code := <-status; code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "raft", "wal")); err != nil {
		t.Fatalf("no raft log in the data dir: %v", err)
	}
}

func TestServeReadsZooCfg(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	zoo := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=2181\nclientPortAddress=127.0.0.1\n"+
		"4lw.commands.whitelist=ruok,conf\nmaxSessionTimeout=9000\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	// --listen given explicitly wins over clientPort.
	addr, stop, status := startServe(t, "--config", cfg, "--listen", "127.0.0.1:0", "--log-level", "error")
	defer func() {
		stop()
		if code := <-status; code != 0 {
			t.Errorf("exit status %d", code)
		}
	}()
	conf, err := zkpeer.FourLetter(addr, "conf", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tickTime=500\n", "maxSessionTimeout=9000\n", "dataDir=" + filepath.Join(dir, "data") + "\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("conf lacks %q:\n%s", want, conf)
		}
	}
	if got, _ := zkpeer.FourLetter(addr, "srvr", 5*time.Second); !strings.HasPrefix(got, "Zookeeper version: ") {
		t.Errorf("srvr (always allowed) = %q", got)
	}
	if got, _ := zkpeer.FourLetter(addr, "mntr", 5*time.Second); got != "mntr is not executed because it is not in the whitelist.\n" {
		t.Errorf("mntr = %q", got)
	}
}

func TestRunUsageAndVersion(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(nil, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage: herd") {
		t.Fatalf("no args: %d %q", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"version"}, strings.NewReader(""), &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "herd 3.8") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run([]string{"nope"}, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
}
