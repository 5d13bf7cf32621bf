// Package nemesis is herd's reliability suite: a nemesis that injects faults
// into an in-process cluster (herdtest.Cluster) while workloads run against
// it, each workload recording what its clients saw as a history that a
// checker then judges.
//
// The faults (Kind) are crashes and clean restarts of the leader or a
// follower, network partitions between nodes (an isolated node, an isolated
// leader, a bridge), cuts between clients and a node, a pause longer than
// the session timeout, a slow disk and a crash between writing the log and
// applying it. The workloads are registers checked for linearizability with
// porcupine, a fenced lock, a work queue, and sessions with ephemerals.
//
// A workload's Check returns the violations it found; a test fails on any
// and Dump writes the history (and porcupine's visualisation) to a folder.
// The integration package runs the profiles (reliability_test.go).
package nemesis
