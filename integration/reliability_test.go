package integration

import (
	"context"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/integration/nemesis"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// The long profile: go test -run TestNemesis ./integration/ -nemesis.duration 30m -nemesis.seed 7
// (or HERD_NEMESIS_DURATION / HERD_NEMESIS_SEED). Without a duration the
// short profile runs: every fault kind once, in a fixed order.
// HERD_NEMESIS_KINDS=kill-leader,pause,... runs just those faults, in order.
var (
	nemesisDuration = flag.Duration("nemesis.duration", envDuration("HERD_NEMESIS_DURATION"), "run the long nemesis profile for this long (random faults)")
	nemesisSeed     = flag.Uint64("nemesis.seed", envUint("HERD_NEMESIS_SEED"), "seed of the nemesis and the workloads (0: from the clock)")
)

func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

func envUint(name string) uint64 {
	n, _ := strconv.ParseUint(os.Getenv(name), 10, 64)
	return n
}

// reliabilitySessionTimeout is the workload clients' session timeout; the
// pause fault outlasts it.
const reliabilitySessionTimeout = 2 * time.Second

// reliabilityTick is the cluster's tick: session timeouts from 1s to 10s.
const reliabilityTick = 500 * time.Millisecond

// TestNemesis runs every workload on a three-node cluster while the nemesis
// injects faults, then checks each workload's history; on a violation it
// writes the histories (and porcupine's visualisation) to a folder it logs.
func TestNemesis(t *testing.T) {
	seed := *nemesisSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("nemesis seed %d (replay with -nemesis.seed %d)", seed, seed)
	c := herdtest.StartCluster(t, 3, herdtest.WithTickTime(reliabilityTick))
	env := nemesis.NewEnv(t, c)
	setupRoots(t, c, "/reg", "/sess")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	regs := &nemesis.Registers{Addrs: env.Addrs(), Root: "/reg", Keys: 8, Clients: 5,
		SessionTimeout: reliabilitySessionTimeout, OpTimeout: 2 * time.Second, Seed: seed}
	regs.Start(ctx)
	locks := &nemesis.Locks{Connect: env.ConnectString(), Path: "/lock", Workers: 3,
		SessionTimeout: reliabilitySessionTimeout, Actions: 3}
	if err := locks.Start(ctx); err != nil {
		t.Fatal(err)
	}
	queue := &nemesis.Queue{Connect: env.ConnectString(), Path: "/queue", Consumers: 2, SessionTimeout: reliabilitySessionTimeout}
	if err := queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sessions := &nemesis.Sessions{Addrs: env.Addrs(), Root: "/sess", Timeout: reliabilitySessionTimeout,
		SurvivorTimeout: 8 * time.Second, Allowance: 10 * time.Second, Seed: seed}
	if err := sessions.Start(ctx); err != nil {
		t.Fatal(err)
	}

	nem := nemesis.New(t, env, nemesis.Config{Hold: 1500 * time.Millisecond, PauseHold: reliabilitySessionTimeout + time.Second,
		Quiet: 500 * time.Millisecond, FsyncDelay: 20 * time.Millisecond, Seed: seed})
	if kinds := os.Getenv("HERD_NEMESIS_KINDS"); kinds != "" {
		var sched []nemesis.Kind
		for _, k := range strings.Split(kinds, ",") {
			sched = append(sched, nemesis.Kind(k))
		}
		nem.RunSchedule(ctx, sched)
	} else if *nemesisDuration > 0 {
		nem.RunRandom(ctx, *nemesisDuration)
	} else {
		nem.RunSchedule(ctx, nemesis.AllKinds)
	}
	cancel()
	regs.Wait()
	locks.Wait()
	queue.Drain(30 * time.Second)
	sessions.Wait()
	t.Logf("faults: %s", nem.Summary())
	t.Log(regs.Stats())
	t.Log(locks.Stats())
	t.Log(queue.Stats())
	t.Log(sessions.Stats())

	bad, info := regs.Check(2 * time.Minute)
	bad = append(bad, locks.Check()...)
	bad = append(bad, queue.Check()...)
	bad = append(bad, sessions.Check()...)
	t.Logf("operations checked: %d", regs.Ops()+locks.Ops()+queue.Ops()+sessions.Ops())
	if len(bad) == 0 {
		return
	}
	dir, err := nemesis.OutDir("seed-" + strconv.FormatUint(seed, 10))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{regs.Dump(dir, info), locks.Dump(dir), queue.Dump(dir), sessions.Dump(dir)} {
		if err != nil {
			t.Error(err)
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
	t.Fatalf("violations; histories in %s", dir)
}

// setupRoots creates persistent parents for the workloads.
func setupRoots(t *testing.T, c *herdtest.Cluster, paths ...string) {
	t.Helper()
	conn := rawSession(t, c.Leader().Addr, wireclient.Options{})
	for _, p := range paths {
		if _, err := conn.Do(clusterCtx(t), proto.OpCreate, &proto.CreateRequest{Path: p, ACL: proto.OpenACLUnsafe}, &proto.CreateResponse{}); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
}
