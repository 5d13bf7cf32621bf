package integration

import (
	"context"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server"
)

// Target is one server under test, reachable on a loopback client port, or
// a cluster of them.
type Target struct {
	// Name labels subtests and failure messages ("zookeeper", "herd", "herd×3").
	Name string
	// Addr is host:port of the client port (a cluster's first node).
	Addr string
	// Addrs are a cluster's client ports; empty for one server.
	Addrs []string
	// Cluster marks a target whose /zookeeper/config lists members.
	Cluster bool
	// Settle, when set, waits until every node has caught up with the leader.
	Settle func(ctx context.Context) error
}

// TargetOptions are the server settings a test needs from every target.
type TargetOptions struct {
	// ExtendedTypes enables TTL nodes (ZooKeeper's zookeeper.extendedTypesEnabled).
	ExtendedTypes bool
}

// targets starts every server under test; each is stopped when t ends. The
// reference ZooKeeper is not on the list: conformance compares each target
// with it, and TestNormaliser proves the comparison on two ZooKeepers.
func targets(t testing.TB, opts TargetOptions) []Target {
	t.Helper()
	return []Target{herdTarget(t, opts)}
}

// reference starts the Apache ZooKeeper that conformance compares targets with.
func reference(t testing.TB, opts TargetOptions) Target {
	t.Helper()
	tg := zookeeperTarget(t, opts)
	tg.Name = "reference"
	return tg
}

// herdTarget starts an in-process herd server.
func herdTarget(t testing.TB, opts TargetOptions) Target {
	t.Helper()
	var o []herdtest.Option
	if opts.ExtendedTypes {
		o = append(o, herdtest.WithExtendedTypes())
	}
	return Target{Name: "herd", Addr: herdtest.Start(t, o...).Addr}
}

// herdClusterTarget starts an in-process herd cluster of three nodes, with
// reconfig off as in a default ZooKeeper.
func herdClusterTarget(t testing.TB, opts TargetOptions) Target {
	t.Helper()
	o := []herdtest.Option{herdtest.WithConfig(func(c *server.Config) { c.ReconfigEnabled = false })}
	if opts.ExtendedTypes {
		o = append(o, herdtest.WithExtendedTypes())
	}
	c := herdtest.StartCluster(t, 3, o...)
	return Target{Name: "herd×3", Addr: c.Nodes[0].Addr, Addrs: c.Addrs(), Cluster: true, Settle: c.Settle}
}

func zookeeperTarget(t testing.TB, opts TargetOptions) Target {
	t.Helper()
	s := zkpeer.StartT(t, zkpeer.Options{ExtendedTypes: opts.ExtendedTypes})
	return Target{Name: "zookeeper", Addr: s.Addr}
}
