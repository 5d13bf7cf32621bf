package framework_test

import (
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
)

// target is a ZooKeeper-protocol server under test. The suite runs the same
// tests against every target; an in-process herd target will be added next
// to Apache ZooKeeper.
type target interface {
	// Name labels the subtests.
	Name() string
	// Addr is host:port of the client port.
	Addr() string
	// Stop stops serving, keeping data and sessions.
	Stop(t testing.TB)
	// Start serves again on the same address after Stop.
	Start(t testing.TB)
	// MaxSessionTimeout is the longest session timeout the server grants.
	MaxSessionTimeout() time.Duration
}

// targets lists the servers the suite runs against; each starts on demand.
var targets = []struct {
	name  string
	start func(t testing.TB, tick time.Duration) target
}{
	{"zookeeper", startZooKeeper},
}

type zkTarget struct {
	s    *zkpeer.Server
	tick time.Duration
}

// startZooKeeper starts Apache ZooKeeper with the given tick (sessions between
// 2 and 20 ticks) and TTL nodes enabled.
func startZooKeeper(t testing.TB, tick time.Duration) target {
	s := zkpeer.StartT(t, zkpeer.Options{TickTime: int(tick / time.Millisecond), ExtendedTypes: true})
	return zkTarget{s, tick}
}

func (z zkTarget) Name() string       { return "zookeeper" }
func (z zkTarget) Addr() string       { return z.s.Addr }
func (z zkTarget) Stop(t testing.TB)  { z.s.Stop() }
func (z zkTarget) Start(t testing.TB) { z.s.RestartT(t) }

// MaxSessionTimeout is ZooKeeper's default maximum, 20 ticks.
func (z zkTarget) MaxSessionTimeout() time.Duration { return 20 * z.tick }
