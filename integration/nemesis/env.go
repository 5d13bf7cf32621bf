package nemesis

import (
	"fmt"
	"strings"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
)

// Env is a cluster with a fault proxy in front of each node's client port.
// Workload clients dial the proxies, so the nemesis can freeze (blackhole)
// what a node's clients see as well as cut them off.
type Env struct {
	// Cluster is the cluster under test.
	Cluster *herdtest.Cluster
	// Proxies[i] stands in front of Cluster.Nodes[i].
	Proxies []*faultproxy.Proxy
}

// NewEnv puts a proxy in front of every node of c; the proxies close when
// the test ends.
func NewEnv(t testing.TB, c *herdtest.Cluster) *Env {
	t.Helper()
	e := &Env{Cluster: c}
	for _, n := range c.Nodes {
		px, err := faultproxy.New(n.Addr)
		if err != nil {
			t.Fatalf("nemesis: proxy for node %d: %v", n.ID, err)
		}
		t.Cleanup(func() { px.Close() })
		e.Proxies = append(e.Proxies, px)
	}
	return e
}

// Addrs are the proxies' addresses, in node order.
func (e *Env) Addrs() []string {
	out := make([]string, len(e.Proxies))
	for i, p := range e.Proxies {
		out[i] = p.Addr()
	}
	return out
}

// ConnectString is the proxies' addresses as a connect string.
func (e *Env) ConnectString() string { return strings.Join(e.Addrs(), ",") }

// proxyOf returns the proxy in front of node n.
func (e *Env) proxyOf(n *herdtest.Node) *faultproxy.Proxy {
	for i, m := range e.Cluster.Nodes {
		if m == n {
			return e.Proxies[i]
		}
	}
	panic(fmt.Sprintf("nemesis: node %d has no proxy", n.ID))
}
