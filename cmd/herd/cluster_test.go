package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/tree"
)

func TestDevRunsAClusterAndPrintsItsConnectString(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- dev(ctx, []string{"--nodes", "3", "--log-level", "error"}, pw, io.Discard)
		pw.Close()
	}()
	var out []string
	connect := ""
	sc := bufio.NewScanner(pr)
	for connect == "" && sc.Scan() {
		out = append(out, sc.Text())
		if s, ok := strings.CutPrefix(sc.Text(), "connect string: "); ok {
			connect = s
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if connect == "" {
		cancel()
		t.Fatalf("no connect string in:\n%s", strings.Join(out, "\n"))
	}
	addrs := strings.Split(connect, ",")
	if len(addrs) != 3 || !strings.Contains(strings.Join(out, "\n"), "(leader)") {
		t.Fatalf("output:\n%s", strings.Join(out, "\n"))
	}
	modes := map[string]int{}
	for _, a := range addrs {
		got, err := zkpeer.FourLetter(a, "srvr", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(got, "\n") {
			if m, ok := strings.CutPrefix(l, "Mode: "); ok {
				modes[m]++
			}
		}
	}
	if modes["leader"] != 1 || modes["follower"] != 2 {
		t.Fatalf("modes %v", modes)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

func TestClusterCommandListsAddsAndRemoves(t *testing.T) {
	c := herdtest.StartCluster(t, 3, herdtest.WithConfig(func(cfg *server.Config) { cfg.SuperDigest = tree.DigestID("super:pw") }))
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := clusterCmd(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("herd cluster %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	list := run("list", "-server", c.ConnectString())
	if strings.Count(list, "\tleader\n") != 1 || strings.Count(list, "\tfollower\n") != 2 {
		t.Fatalf("list:\n%s", list)
	}
	n4 := c.AddNode(true)
	out := run("add", "-server", c.ConnectString(), "-auth", "super:pw", n4.Member().Line())
	if !strings.Contains(out, n4.Member().Line()) {
		t.Fatalf("add printed:\n%s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for n4.State().Role != cluster.RoleObserver {
		if time.Now().After(deadline) {
			t.Fatal("the added observer does not observe")
		}
		time.Sleep(10 * time.Millisecond)
	}
	out = run("remove", "-server", c.ConnectString(), "-auth", "super:pw", fmt.Sprint(n4.ID))
	if strings.Contains(out, fmt.Sprintf("server.%d=", n4.ID)) {
		t.Fatalf("remove printed:\n%s", out)
	}
	var errOut bytes.Buffer
	if code := clusterCmd(context.Background(), []string{"remove", "-server", c.ConnectString(), "2"}, io.Discard, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "not authenticated") {
		t.Fatalf("remove without auth: exit %d, %s", code, errOut.String())
	}
}
