// Package nemesis is herd's reliability suite: a nemesis that injects faults
// into an in-process cluster (herdtest.Cluster) while workloads run against
// it, each workload recording what its clients saw as a history that a
// checker then judges.
//
// The faults (Kind) are crashes and clean restarts of the leader or a
// follower, network partitions between nodes (an isolated follower, an
// isolated leader, a bridge, and on five nodes split-leader: the leader and
// a follower against three), cuts and blackholes between clients and a
// node (through a faultproxy per node, see Env), a pause longer than the
// session timeout (in process: StallApply + CutPeers + a blackholed client
// proxy; the multi-process test sends real SIGSTOP/SIGCONT), a slow disk
// (cluster.Faults.SlowDisk delays every log fsync) and a crash between
// writing the log and applying it (StallApply, then Kill and Restart).
//
// The workloads:
//   - Registers: versioned set, create, delete and sync+get over many znodes,
//     checked with porcupine (RegisterModel); a request without an answer is
//     an unknown outcome (return time infinity). Plain gets are checked per
//     client: never older than what that client had seen, by zxid.
//   - Locks: recipes.NewLock holders act on a FencedResource with their
//     fencing token; checked: tokens unique and increasing in real-time
//     order, no two clean holds overlapping, no clean hold fenced.
//   - Queue: a recipes WorkQueue; checked: every acknowledged item delivered,
//     nothing delivered that was not put, duplicates only after the first
//     consumer died.
//   - Sessions: an ephemeral is there while its session answers, goes within
//     timeout+allowance after its owner died and only once the session is
//     gone (re-attaching is refused), and a long session survives every
//     leader change.
//
// A workload's Check returns the violations it found; the test fails on any
// and the Dump methods write the histories, and porcupine's HTML
// visualisation, to OutDir ($HERD_NEMESIS_OUT, else a folder under
// os.TempDir whose name the test logs).
//
// The profiles live in package integration (reliability_test.go):
//
//	go test -run 'TestNemesis$' ./integration/                      # short: every fault once
//	go test -run 'TestNemesis$' ./integration/ -timeout 40m \
//	    -nemesis.duration 30m -nemesis.seed 7                         # long: random faults
//	HERD_NEMESIS_KINDS=pause,kill-leader go test -run 'TestNemesis$' ./integration/
//	HERD_NEMESIS_KINDS=split-leader go test -run 'TestNemesis$' ./integration/ -nemesis.nodes 5
//
// The seed (logged by every run) fixes the choice of faults, victims and
// client operations; the timing of a run on a busy machine is not
// reproducible, so a replay re-runs the same schedule, not the same
// interleaving.
package nemesis
