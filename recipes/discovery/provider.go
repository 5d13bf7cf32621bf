package discovery

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

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

	down downInstances
}

// ProviderOption configures a Provider.
type ProviderOption func(*Provider)

// WithDownInstancePolicy sets when an instance the caller reported with
// NoteError is left out (Curator's DownInstancePolicy): once it has threshold
// errors, until timeout after its first error. The default is 30s and 2, as
// Curator's.
func WithDownInstancePolicy(timeout time.Duration, threshold int) ProviderOption {
	return func(p *Provider) { p.down.timeout, p.down.threshold = timeout, threshold }
}

// downInstances counts the errors callers noted per instance id. An entry
// lives timeout from its first error, so a down instance comes back by
// itself.
type downInstances struct {
	timeout   time.Duration
	threshold int
	now       func() time.Time // time.Now; tests replace it

	mu     sync.Mutex
	errors map[string]*downStatus
}

type downStatus struct {
	since time.Time
	count int
}

func (d *downInstances) note(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.purgeLocked()
	st := d.errors[id]
	if st == nil {
		st = &downStatus{since: d.now()}
		d.errors[id] = st
	}
	st.count++
}

// isDown reports whether id has reached the threshold within its timeout.
func (d *downInstances) isDown(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.purgeLocked()
	st := d.errors[id]
	return st != nil && st.count >= d.threshold
}

func (d *downInstances) purgeLocked() {
	now := d.now()
	for id, st := range d.errors {
		if now.Sub(st.since) >= d.timeout {
			delete(d.errors, id)
		}
	}
}

type decodedNode struct {
	czxid, mzxid int64
	inst         Instance
	ok           bool
}

// NewProvider returns a provider of the service name choosing with s (nil:
// RoundRobin). Start it before use.
func (d *Discovery) NewProvider(name string, s Strategy, opts ...ProviderOption) (*Provider, error) {
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
	p := &Provider{name: name, root: d.pathForName(name), strategy: s, tree: tree}
	p.down = downInstances{timeout: 30 * time.Second, threshold: 2, now: time.Now, errors: map[string]*downStatus{}}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Start begins watching the service in the background.
func (p *Provider) Start() error { return p.tree.Start() }

// AwaitInitialized waits until the first list of instances is loaded.
func (p *Provider) AwaitInitialized(ctx context.Context) error { return p.tree.AwaitInitialized(ctx) }

// Instances returns the enabled instances that are not down (see
// NoteError), sorted by node name; nodes whose data is not an instance are
// skipped. Payload and URISpec are shared with
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
		if d.ok && d.inst.Enabled && !p.down.isDown(d.inst.ID) {
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

// NoteError records that the caller could not use inst (Curator's
// ServiceProvider.noteError). An instance with as many errors as the
// provider's DownInstancePolicy threshold is left out of Instance and
// Instances until the policy's timeout after its first error.
func (p *Provider) NoteError(inst Instance) { p.down.note(inst.ID) }

// Listen registers fn for changes of the service's node cache (see
// cache.Tree.Listen).
func (p *Provider) Listen(fn func(cache.Event)) (remove func()) { return p.tree.Listen(fn) }

// Close stops the provider's cache.
func (p *Provider) Close() error { return p.tree.Close() }
