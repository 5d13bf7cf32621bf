//go:build !interop

package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/integration/nemesis"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// The long profile: go test -run TestNemesis ./integration/ -nemesis.duration 30m -nemesis.seed 7
// (or HERD_NEMESIS_DURATION / HERD_NEMESIS_SEED). Without a duration the
// short profile runs: every fault kind once, in a fixed order.
// HERD_NEMESIS_KINDS=kill-leader,pause,... runs just those faults, in order;
// HERD_NEMESIS_RANDOM_KINDS=... limits the long profile's random choice.
// Every violation fails the test; HERD_NEMESIS_STRICT=0 only logs WorkQueue
// duplicates (items delivered twice while their first consumer lived).
var (
	nemesisDuration = flag.Duration("nemesis.duration", envDuration("HERD_NEMESIS_DURATION"), "run the long nemesis profile for this long (random faults)")
	nemesisSeed     = flag.Uint64("nemesis.seed", envUint("HERD_NEMESIS_SEED"), "seed of the nemesis and the workloads (0: from the clock)")
	nemesisNodes    = flag.Int("nemesis.nodes", 3, "cluster size (5 adds split-leader's real minority; name it with HERD_NEMESIS_RANDOM_KINDS)")
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

// nemesisEpoch is how long one epoch of the long profile lasts: each epoch
// runs the workloads on fresh paths and is checked on its own, so that
// porcupine's search stays small and a write of unknown outcome from one
// epoch cannot touch the next one's registers.
const nemesisEpoch = 2 * time.Minute

// TestNemesis runs every workload on a three-node cluster (-nemesis.nodes) while the nemesis
// injects faults, then checks each workload's history; on a violation it
// writes the histories (and porcupine's visualisation) to a folder it logs.
func TestNemesis(t *testing.T) {
	seed := *nemesisSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("nemesis seed %d (replay with -nemesis.seed %d)", seed, seed)
	c := herdtest.StartCluster(t, *nemesisNodes, herdtest.WithTickTime(reliabilityTick))
	env := nemesis.NewEnv(t, c)
	cfg := nemesis.Config{Hold: 1500 * time.Millisecond, PauseHold: reliabilitySessionTimeout + time.Second,
		Quiet: 500 * time.Millisecond, FsyncDelay: 20 * time.Millisecond, Seed: seed}
	for _, k := range strings.Split(os.Getenv("HERD_NEMESIS_RANDOM_KINDS"), ",") {
		if k != "" {
			cfg.Kinds = append(cfg.Kinds, nemesis.Kind(k))
		}
	}
	nem := nemesis.New(t, env, cfg)
	ops := 0
	switch kinds := os.Getenv("HERD_NEMESIS_KINDS"); {
	case kinds != "":
		var sched []nemesis.Kind
		for _, k := range strings.Split(kinds, ",") {
			sched = append(sched, nemesis.Kind(k))
		}
		ops += nemesisEpochRun(t, env, seed, 0, func(ctx context.Context) { nem.RunSchedule(ctx, sched) })
	case *nemesisDuration > 0:
		end := time.Now().Add(*nemesisDuration)
		for e := 0; time.Now().Before(end); e++ {
			d := min(nemesisEpoch, time.Until(end))
			ops += nemesisEpochRun(t, env, seed+uint64(e), e, func(ctx context.Context) { nem.RunRandom(ctx, d) })
			t.Logf("after epoch %d: faults %s; %d operations checked", e, nem.Summary(), ops)
		}
	default:
		ops += nemesisEpochRun(t, env, seed, 0, func(ctx context.Context) { nem.RunSchedule(ctx, nemesis.AllKinds) })
	}
	t.Logf("faults: %s", nem.Summary())
	t.Logf("operations checked: %d", ops)
}

// nemesisEpochRun runs the workloads on paths of their own while run injects
// faults, checks them, and returns how many operations were checked. A
// violation fails the test after the histories are written out; the next
// epoch still runs, so a long run counts every violation.
func nemesisEpochRun(t *testing.T, env *nemesis.Env, seed uint64, epoch int, run func(context.Context)) int {
	t.Helper()
	root := fmt.Sprintf("/e%d", epoch)
	setupRoots(t, env.Cluster, root, root+"/reg", root+"/sess")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	regs := &nemesis.Registers{Addrs: env.Addrs(), Root: root + "/reg", Keys: 8, Clients: 5,
		SessionTimeout: reliabilitySessionTimeout, OpTimeout: 2 * time.Second, Seed: seed}
	regs.Start(ctx)
	locks := &nemesis.Locks{Connect: env.ConnectString(), Path: root + "/lock", Workers: 3,
		SessionTimeout: reliabilitySessionTimeout, Actions: 3}
	if err := locks.Start(ctx); err != nil {
		t.Fatal(err)
	}
	queue := &nemesis.Queue{Connect: env.ConnectString(), Path: root + "/queue", Consumers: 2, SessionTimeout: reliabilitySessionTimeout,
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))}
	if err := queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sessions := &nemesis.Sessions{Addrs: env.Addrs(), Root: root + "/sess", Timeout: reliabilitySessionTimeout,
		SurvivorTimeout: 8 * time.Second, Allowance: 10 * time.Second, Seed: seed}
	if err := sessions.Start(ctx); err != nil {
		t.Fatal(err)
	}

	run(ctx)
	cancel()
	regs.Wait()
	locks.Wait()
	queue.Drain(30 * time.Second)
	sessions.Wait()
	t.Log(regs.Stats())
	t.Log(locks.Stats())
	t.Log(queue.Stats())
	t.Log(sessions.Stats())

	bad, info := regs.Check(5 * time.Minute)
	bad = append(bad, locks.Check()...)
	qbad, qdups := queue.Check()
	bad = append(bad, qbad...)
	if len(qdups) > 0 {
		// A WorkQueue item delivered twice while its first consumer lived.
		// Put's producer slot (recipes/queue) made this a failure; HERD_NEMESIS_STRICT=0
		// logs it instead, to look past it at the other workloads.
		if os.Getenv("HERD_NEMESIS_STRICT") == "0" {
			for _, d := range qdups {
				t.Logf("VIOLATION (not enforced: HERD_NEMESIS_STRICT=0) %s", d)
			}
		} else {
			bad = append(bad, qdups...)
		}
	}
	bad = append(bad, sessions.Check()...)
	ops := regs.Ops() + locks.Ops() + queue.Ops() + sessions.Ops()
	if len(bad) == 0 {
		return ops
	}
	dir, err := nemesis.OutDir(fmt.Sprintf("seed-%d-epoch-%d", seed, epoch))
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
	t.Errorf("epoch %d: %d violations; histories in %s", epoch, len(bad), dir)
	return ops
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
