package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/fourlw"
)

// reexecEnv, set in the environment of this test binary, makes it run herd
// with these newline-separated arguments instead of the tests: a second
// process for the tests that need one.
const reexecEnv = "HERD_TEST_RUN_HERD"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(reexecEnv); ok {
		os.Exit(run(strings.Split(args, "\n"), os.Stdin, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// noFixedPorts turns the AdminServer off unless args place it: its default
// port, 8080, is fixed and tests share the machine.
func noFixedPorts(args []string) []string {
	for _, a := range args {
		if strings.TrimLeft(a, "-") == "admin-addr" || strings.HasPrefix(strings.TrimLeft(a, "-"), "admin-addr=") {
			return args
		}
	}
	return append([]string{"--admin-addr", "off"}, args...)
}

var servingLine = regexp.MustCompile(`serving ZooKeeper clients on (\S+) `)

// startServe runs `herd serve args...` until the returned cancel is called,
// and returns the address it listens on and a channel with its exit status.
func startServe(t *testing.T, args ...string) (addr string, cancel func(), status <-chan int) {
	t.Helper()
	line, cancel, status := startServeLine(t, io.Discard, args...)
	return servingLine.FindStringSubmatch(line)[1], cancel, status
}

// startServeLine is startServe returning the whole start-up line, with the
// log written to logs.
func startServeLine(t *testing.T, logs io.Writer, args ...string) (line string, cancel func(), status <-chan int) {
	t.Helper()
	args = noFixedPorts(args)
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, args, pw, logs)
		pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if servingLine.MatchString(sc.Text()) {
				lines <- sc.Text()
			}
		}
	}()
	select {
	case line = <-lines:
	case code := <-done:
		stop()
		t.Fatalf("serve exited with %d before serving", code)
	case <-time.After(30 * time.Second):
		stop()
		t.Fatal("serve did not start")
	}
	return line, stop, done
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
	if code := run([]string{"nope"}, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
}

// TestVersionSpellings: herd version, --version and -v print the same: herd's
// own version first, then the emulated ZooKeeper release.
func TestVersionSpellings(t *testing.T) {
	info, _ := debug.ReadBuildInfo()
	want := versionText(info)
	for _, arg := range []string{"version", "--version", "-version", "-v"} {
		var out, errOut strings.Builder
		code := run([]string{arg}, strings.NewReader(""), &out, &errOut)
		if code != 0 || out.String() != want || errOut.String() != "" {
			t.Errorf("herd %s: exit %d stdout %q stderr %q, want %q", arg, code, out.String(), errOut.String(), want)
		}
	}
	if !strings.HasPrefix(want, "herd ") || strings.HasPrefix(want, "herd "+fourlw.Version) ||
		!strings.Contains(want, "\nzookeeper "+fourlw.Version+" ") {
		t.Errorf("version text:\n%s", want)
	}
}

// TestVersionTextFromBuildInfo: the module version and commit come from what
// the Go toolchain stamps into the binary (go build in a git checkout).
func TestVersionTextFromBuildInfo(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/herd-io/herd", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "c6647ef1a2b3c4d5e6f708192a3b4c5d6e7f8091"},
			{Key: "vcs.time", Value: "2026-12-01T11:22:25Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "herd v0.3.0\n" +
		"zookeeper " + fourlw.Version + " (the protocol and four-letter words herd serves)\n" +
		"commit c6647ef1a2b3c4d5e6f708192a3b4c5d6e7f8091 (2026-12-01T11:22:25Z), with uncommitted changes\n" +
		"go go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got := versionText(info); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A work-tree build without stamps still says what it is.
	got := versionText(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if !strings.HasPrefix(got, "herd devel\n") || !strings.Contains(got, "commit unknown") {
		t.Errorf("unstamped:\n%s", got)
	}
}
