package integration

import (
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
)

// Target is one server under test, reachable on a loopback client port.
type Target struct {
	// Name labels subtests and failure messages ("zookeeper", "herd").
	Name string
	// Addr is host:port of the client port.
	Addr string
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

func zookeeperTarget(t testing.TB, opts TargetOptions) Target {
	t.Helper()
	s := zkpeer.StartT(t, zkpeer.Options{ExtendedTypes: opts.ExtendedTypes})
	return Target{Name: "zookeeper", Addr: s.Addr}
}
