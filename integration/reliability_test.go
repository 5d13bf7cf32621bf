package integration

import (
	"context"
	"flag"
	"os"
	"strconv"
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

// TestNemesis runs every workload on a three-node cluster while the nemesis
// injects faults, then checks each workload's history; on a violation it
// writes the histories (and porcupine's visualisation) to a folder it logs.
func TestNemesis(t *testing.T) {
	seed := *nemesisSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("nemesis seed %d (replay with -nemesis.seed %d)", seed, seed)
	c := herdtest.StartCluster(t, 3)
	env := nemesis.NewEnv(t, c)
	setupRoots(t, c, "/reg")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	regs := &nemesis.Registers{Addrs: env.Addrs(), Root: "/reg", Keys: 8, Clients: 5,
		SessionTimeout: reliabilitySessionTimeout, OpTimeout: 2 * time.Second, Seed: seed}
	regs.Start(ctx)

	nem := nemesis.New(t, env, nemesis.Config{Hold: 1500 * time.Millisecond, PauseHold: reliabilitySessionTimeout + time.Second,
		Quiet: 500 * time.Millisecond, FsyncDelay: 20 * time.Millisecond, Seed: seed})
	if *nemesisDuration > 0 {
		nem.RunRandom(ctx, *nemesisDuration)
	} else {
		nem.RunSchedule(ctx, nemesis.AllKinds)
	}
	cancel()
	regs.Wait()
	t.Logf("faults: %s", nem.Summary())
	t.Log(regs.Stats())

	bad, info := regs.Check(2 * time.Minute)
	if len(bad) == 0 {
		return
	}
	dir, err := nemesis.OutDir("seed-" + strconv.FormatUint(seed, 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := regs.Dump(dir, info); err != nil {
		t.Error(err)
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
