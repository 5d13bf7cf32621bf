package framework_test

import (
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
)

func init() {
	targets = append(targets, struct {
		name  string
		start func(t testing.TB, tick time.Duration) target
	}{"herd", startHerd})
}

type herdTarget struct {
	s    *herdtest.Server
	tick time.Duration
}

// startHerd starts an in-process herd node with the given tick and TTL nodes.
func startHerd(t testing.TB, tick time.Duration) target {
	return herdTarget{herdtest.Start(t, herdtest.WithTickTime(tick), herdtest.WithExtendedTypes()), tick}
}

func (h herdTarget) Name() string                     { return "herd" }
func (h herdTarget) Addr() string                     { return h.s.Addr }
func (h herdTarget) Stop(t testing.TB)                { h.s.Stop() }
func (h herdTarget) Start(t testing.TB)               { h.s.Restart() }
func (h herdTarget) MaxSessionTimeout() time.Duration { return 20 * h.tick }
