// Package testtarget gives tests one shape for "a ZooKeeper-protocol server":
// an in-process herd node or a real Apache ZooKeeper, so that the framework's
// and the recipes' behaviour tests run unchanged against both.
//
// Without Debian's zookeeper package the ZooKeeper target fails its test in CI
// and skips it elsewhere (zkpeer.Require).
package testtarget

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/internal/zkpeer"
)

// Target is a ZooKeeper-protocol server under test.
type Target interface {
	// Name labels subtests: "herd" or "zookeeper".
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

// Factory starts a target with the given tick (sessions between 2 and 20
// ticks) and TTL nodes enabled; the target stops when the test ends.
type Factory struct {
	Name  string
	Start func(t testing.TB, tick time.Duration) Target
}

// All lists every kind of target: herd first, then Apache ZooKeeper.
var All = []Factory{{"herd", Herd}, {"zookeeper", ZooKeeper}}

// AllWithCluster is All and a three-node herd cluster (HerdCluster).
var AllWithCluster = append(append([]Factory(nil), All...), Factory{"herd-cluster", HerdCluster})

// Each runs f as a subtest against each target in All, each started with tick.
func Each(t *testing.T, tick time.Duration, f func(t *testing.T, tg Target)) {
	for _, fac := range All {
		t.Run(fac.Name, func(t *testing.T) { f(t, fac.Start(t, tick)) })
	}
}

type herdTarget struct {
	s    *herdtest.Server
	tick time.Duration
}

// Herd starts an in-process herd node.
func Herd(t testing.TB, tick time.Duration) Target {
	return herdTarget{herdtest.Start(t, herdtest.WithTickTime(tick), herdtest.WithExtendedTypes()), tick}
}

func (h herdTarget) Name() string                     { return "herd" }
func (h herdTarget) Addr() string                     { return h.s.Addr }
func (h herdTarget) Stop(t testing.TB)                { h.s.Stop() }
func (h herdTarget) Start(t testing.TB)               { h.s.Restart() }
func (h herdTarget) MaxSessionTimeout() time.Duration { return 20 * h.tick }

type herdClusterTarget struct {
	c    *herdtest.Cluster
	tick time.Duration
	next *atomic.Int64
}

// HerdCluster starts an in-process three-node herd cluster. Its Addr hands
// out the nodes in turn, so that the clients (and fault proxies) a test
// creates spread over them; Stop and Start stop and restart every node.
func HerdCluster(t testing.TB, tick time.Duration) Target {
	c := herdtest.StartCluster(t, 3, herdtest.WithTickTime(tick), herdtest.WithExtendedTypes())
	return herdClusterTarget{c: c, tick: tick, next: new(atomic.Int64)}
}

func (h herdClusterTarget) Name() string { return "herd-cluster" }

func (h herdClusterTarget) Addr() string {
	n := h.c.Nodes[int(h.next.Add(1)-1)%len(h.c.Nodes)]
	return n.Addr
}

func (h herdClusterTarget) Stop(t testing.TB) {
	for _, n := range h.c.Nodes {
		n.Stop()
	}
}

func (h herdClusterTarget) Start(t testing.TB) {
	for _, n := range h.c.Nodes {
		n.Restart()
	}
	h.c.Leader()
}

func (h herdClusterTarget) MaxSessionTimeout() time.Duration { return 20 * h.tick }

type zkTarget struct {
	s    *zkpeer.Server
	tick time.Duration
}

// ZooKeeper starts Apache ZooKeeper (one JVM per call: share it between tests
// where you can).
func ZooKeeper(t testing.TB, tick time.Duration) Target {
	s := zkpeer.StartT(t, zkpeer.Options{TickTime: int(tick / time.Millisecond), ExtendedTypes: true})
	return zkTarget{s, tick}
}

func (z zkTarget) Name() string       { return "zookeeper" }
func (z zkTarget) Addr() string       { return z.s.Addr }
func (z zkTarget) Stop(t testing.TB)  { z.s.Stop() }
func (z zkTarget) Start(t testing.TB) { z.s.RestartT(t) }

// MaxSessionTimeout is ZooKeeper's default maximum, 20 ticks.
func (z zkTarget) MaxSessionTimeout() time.Duration { return 20 * z.tick }

// ExpireSession makes the server at addr expire the session of conn: it
// attaches a second connection to the same session (id and password) and
// closes the session from there, the standard trick of ZooKeeper's own tests.
// The client learns of the expiry when it next talks to the server.
func ExpireSession(t testing.TB, addr string, conn *zk.Conn) {
	t.Helper()
	sid := conn.SessionID()
	// go-zookeeper keeps the password unexported; read it for the test only.
	passwd := append([]byte(nil), reflect.ValueOf(conn).Elem().FieldByName("passwd").Bytes()...)
	if err := closeSessionRaw(addr, sid, passwd); err != nil {
		t.Fatalf("expire session %#x: %v", sid, err)
	}
}

// closeSessionRaw attaches a second connection to the session (id and
// password) and sends closeSession from it.
func closeSessionRaw(addr string, sid int64, passwd []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wireclient.Dial(ctx, addr, wireclient.Options{SessionTimeout: 10 * time.Second, SessionID: sid, Passwd: passwd})
	if err != nil {
		return err
	}
	if c.SessionID() != sid {
		c.Drop()
		return fmt.Errorf("server attached session %#x, not %#x", c.SessionID(), sid)
	}
	// A server may hang up instead of answering closeSession; the session is closed either way.
	if err := c.Close(ctx); err != nil && !errors.Is(err, wireclient.ErrConnectionLoss) {
		return err
	}
	return nil
}
