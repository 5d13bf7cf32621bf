package discovery

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/cache"
)

// ErrNoInstances is returned by Provider.Instance when the service has no
// enabled instance.
var ErrNoInstances = errors.New("discovery: no instances")

// Strategy picks one instance from a service's current instances (sorted
// by node name, never empty). Implementations must be safe for concurrent
// use.
type Strategy interface {
	Pick(instances []Instance) Instance
}

// RoundRobin cycles through the instances (Curator's RoundRobinStrategy,
// the default).
func RoundRobin() Strategy { return &roundRobin{} }

type roundRobin struct {
	mu   sync.Mutex
	next int
}

func (r *roundRobin) Pick(insts []Instance) Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.next % len(insts)
	r.next++
	return insts[i]
}

// Random picks uniformly at random (Curator's RandomStrategy).
func Random() Strategy { return randomStrategy{} }

type randomStrategy struct{}

func (randomStrategy) Pick(insts []Instance) Instance { return insts[rand.IntN(len(insts))] }

// Sticky keeps returning the instance it picked last while that instance is
// still there, and asks inner for a new one when it is gone (Curator's
// StickyStrategy).
func Sticky(inner Strategy) Strategy { return &sticky{inner: inner} }

type sticky struct {
	inner Strategy
	mu    sync.Mutex
	id    string
	have  bool
}

func (s *sticky) Pick(insts []Instance) Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.have {
		for _, in := range insts {
			if in.ID == s.id {
				return in
			}
		}
	}
	in := s.inner.Pick(insts)
	s.id, s.have = in.ID, true
	return in
}

// Provider serves instances of one service from a local cache of
// <basePath>/<name> (Curator's ServiceProvider over a ServiceCache). Instance
// and Instances never block on the network. Disabled instances are left out.
//
// Connection states are those of cache.Tree: the list is kept while
// SUSPENDED or after LOST and rebuilt on RECONNECTED.
type Provider struct {
	name     string
	root     string // <basePath>/<name>
	strategy Strategy
	tree     *cache.Tree

	mu      sync.Mutex
	decoded map[string]decodedNode // by node path: JSON is decoded once per version
}

type decodedNode struct {
	czxid, mzxid int64
	inst         Instance
	ok           bool
}

// NewProvider returns a provider of the service name choosing with s (nil:
// RoundRobin). Start it before use.
func (d *Discovery) NewProvider(name string, s Strategy) (*Provider, error) {
	if err := validName("name", name); err != nil {
		return nil, err
	}
	if s == nil {
		s = RoundRobin()
	}
	tree, err := cache.NewTree(d.c, d.pathForName(name), cache.WithMaxDepth(1))
	if err != nil {
		return nil, err
	}
	return &Provider{name: name, root: d.pathForName(name), strategy: s, tree: tree}, nil
}

// Start begins watching the service in the background.
func (p *Provider) Start() error { return p.tree.Start() }

// AwaitInitialized waits until the first list of instances is loaded.
func (p *Provider) AwaitInitialized(ctx context.Context) error { return p.tree.AwaitInitialized(ctx) }

// Instances returns the enabled instances, sorted by node name; nodes whose
// data is not an instance are skipped. Payload and URISpec are shared with
// the provider: do not modify them.
func (p *Provider) Instances() []Instance {
	kids, _ := p.tree.Children(p.root)
	out := make([]Instance, 0, len(kids))
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := make(map[string]decodedNode, len(kids))
	for _, k := range kids {
		n, ok := p.tree.Get(framework.JoinPath(p.root, k))
		if !ok {
			continue
		}
		d, ok := p.decoded[n.Path]
		if !ok || d.czxid != n.Stat.Czxid || d.mzxid != n.Stat.Mzxid {
			inst, err := decode(n.Path, n.Data)
			d = decodedNode{czxid: n.Stat.Czxid, mzxid: n.Stat.Mzxid, inst: inst, ok: err == nil}
		}
		seen[n.Path] = d
		if d.ok && d.inst.Enabled {
			out = append(out, d.inst)
		}
	}
	p.decoded = seen
	return out
}

// Instance picks one enabled instance with the provider's strategy.
func (p *Provider) Instance() (Instance, error) {
	insts := p.Instances()
	if len(insts) == 0 {
		return Instance{}, ErrNoInstances
	}
	return p.strategy.Pick(insts), nil
}

// Listen registers fn for changes of the service's node cache (see
// cache.Tree.Listen).
func (p *Provider) Listen(fn func(cache.Event)) (remove func()) { return p.tree.Listen(fn) }

// Close stops the provider's cache.
func (p *Provider) Close() error { return p.tree.Close() }
