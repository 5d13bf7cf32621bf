//go:build !interop

package integration

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/herd-io/herd/integration/nemesis"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// TestNemesisProcesses is the multi-process part of the nemesis: three
// `herd serve --config` processes under the register and session workloads,
// while the leader and a follower are SIGKILLed and restarted, and the
// leader and a follower are frozen with SIGSTOP for longer than the mortal
// sessions' timeout, then thawed with SIGCONT — real pauses, where the
// frozen node's own clocks stop too.
func TestNemesisProcesses(t *testing.T) {
	seed := *nemesisSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	c := startProcCluster(t, 3)
	setup := rawSession(t, c.servers[0].addr, wireclient.Options{})
	for _, p := range []string{"/preg", "/psess"} {
		if _, err := setup.Do(clusterCtx(t), proto.OpCreate, &proto.CreateRequest{Path: p, ACL: proto.OpenACLUnsafe}, &proto.CreateResponse{}); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	setup.Drop()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	regs := &nemesis.Registers{Addrs: c.addrs(), Root: "/preg", Keys: 6, Clients: 4,
		SessionTimeout: reliabilitySessionTimeout, OpTimeout: 2 * time.Second, Seed: seed}
	regs.Start(ctx)
	sessions := &nemesis.Sessions{Addrs: c.addrs(), Root: "/psess", Timeout: reliabilitySessionTimeout,
		SurvivorTimeout: 8 * time.Second, Allowance: 10 * time.Second, Seed: seed}
	if err := sessions.Start(ctx); err != nil {
		t.Fatal(err)
	}

	const hold = 1500 * time.Millisecond
	pauseHold := reliabilitySessionTimeout + time.Second
	follower := func() *procServer {
		l := c.leader(c.addrs())
		for _, s := range c.servers {
			if s != l {
				return s
			}
		}
		return nil
	}
	faults := map[string]int{}
	recover := func() {
		if err := c.waitServing(); err != nil {
			t.Fatal(err)
		}
		c.leader(c.addrs())
		time.Sleep(500 * time.Millisecond) // quiet time for the workloads between faults
	}
	for _, f := range []struct {
		name string
		do   func()
	}{
		{"sigkill-leader", func() { s := c.leader(c.addrs()); s.kill(); time.Sleep(hold); s.start(t) }},
		{"sigstop-follower", func() {
			s := follower()
			s.signal(syscall.SIGSTOP)
			time.Sleep(pauseHold)
			s.signal(syscall.SIGCONT)
		}},
		{"sigkill-follower", func() { s := follower(); s.kill(); time.Sleep(hold); s.start(t) }},
		{"sigstop-leader", func() {
			s := c.leader(c.addrs())
			s.signal(syscall.SIGSTOP)
			time.Sleep(pauseHold)
			s.signal(syscall.SIGCONT)
		}},
	} {
		start := time.Now()
		f.do()
		recover()
		faults[f.name]++
		t.Logf("nemesis: %s, healed after %v", f.name, time.Since(start).Round(time.Millisecond))
	}
	cancel()
	regs.Wait()
	sessions.Wait()
	t.Logf("faults: %v", faults)
	t.Log(regs.Stats())
	t.Log(sessions.Stats())
	bad, info := regs.Check(2 * time.Minute)
	bad = append(bad, sessions.Check()...)
	t.Logf("operations checked: %d", regs.Ops()+sessions.Ops())
	if len(bad) == 0 {
		return
	}
	dir, err := nemesis.OutDir("processes-seed-" + strconv.FormatUint(seed, 10))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{regs.Dump(dir, info), sessions.Dump(dir)} {
		if err != nil {
			t.Error(err)
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
	t.Fatalf("violations; histories in %s", dir)
}
