package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/freeport"
	"github.com/herd-io/herd/internal/zkpeer"
)

// freePort returns a port nothing listens on now. Members of a cluster must
// know each other's ports before any starts, so they cannot all listen on :0.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// serveSync runs serve until it exits and returns its status and log.
func serveSync(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := serve(ctx, noFixedPorts(args), &bytes.Buffer{}, &logs)
	return code, logs.String()
}

func TestServeRefusesClusterConfigsItCannotServe(t *testing.T) {
	write := func(myid string, servers ...string) string {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if myid != "" {
			if err := os.WriteFile(filepath.Join(data, "myid"), []byte(myid+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		body := "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + data + "\nclientPort=0\n" + strings.Join(servers, "\n") + "\n"
		p := filepath.Join(dir, "zoo.cfg")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	three := []string{"server.1=127.0.0.1:2881:3881", "server.2=127.0.0.1:2882:3882", "server.3=127.0.0.1:2883:3883"}
	for _, tc := range []struct {
		name, cfg, want string
	}{
		{"no myid", write("", three...), "myid"},
		{"myid not listed", write("9", three...), "myid 9"},
		{"two servers on one port", write("1", "server.1=127.0.0.1:2881:3881", "server.2=127.0.0.1:2881:3882"), "server.2"},
	} {
		code, logs := serveSync(t, "--config", tc.cfg, "--log-level", "error")
		if code != 2 || !strings.Contains(logs, tc.want) {
			t.Errorf("%s: exit %d, log %q; want exit 2 naming %q", tc.name, code, logs, tc.want)
		}
	}
	// Flags: a -myid that no -server names.
	code, logs := serveSync(t, "--data-dir", t.TempDir(), "--myid", "4", "--server", "1=127.0.0.1:2881:3881", "--log-level", "error")
	if code != 2 || !strings.Contains(logs, "myid") {
		t.Errorf("-myid not among -server: exit %d, log %q", code, logs)
	}
}

func TestServeFormsAClusterFromFlags(t *testing.T) {
	var args [][]string
	var servers []string
	var clients []string
	for i := 1; i <= 3; i++ {
		c := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		clients = append(clients, c)
		servers = append(servers, "--server", fmt.Sprintf("%d=127.0.0.1:%d:%d;%s", i, freePort(t), freePort(t), c))
	}
	for i := 1; i <= 3; i++ {
		a := append([]string{"--myid", fmt.Sprint(i), "--data-dir", t.TempDir(), "--log-level", "error"}, servers...)
		args = append(args, a)
	}
	type run struct {
		stop   func()
		status <-chan int
	}
	// A member serves (and prints its address) before it has a leader, so
	// they can start one after the other.
	runs := make([]run, 3)
	defer func() {
		for _, r := range runs {
			if r.stop != nil {
				r.stop()
				<-r.status
			}
		}
	}()
	for i := range 3 {
		addr, stop, status := startServe(t, args[i]...)
		if addr != clients[i] {
			t.Errorf("server.%d listens on %s, want its line's %s", i+1, addr, clients[i])
		}
		runs[i] = run{stop, status}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		modes := map[string]int{}
		for _, c := range clients {
			out, _ := zkpeer.FourLetter(c, "srvr", 2*time.Second)
			for _, l := range strings.Split(out, "\n") {
				if m, ok := strings.CutPrefix(l, "Mode: "); ok {
					modes[m]++
				}
			}
		}
		if modes["leader"] == 1 && modes["follower"] == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("modes %v", modes)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
