package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/listen"
)

// ErrStarted is returned by Start on a cache that was already started.
var ErrStarted = errors.New("cache: already started")

// ErrClosed is returned by Start and AwaitInitialized on a closed cache.
var ErrClosed = errors.New("cache: closed")

// Option configures a Tree.
type Option func(*config)

type config struct {
	maxDepth int
	log      *zap.Logger
}

// WithMaxDepth caches nodes at most depth levels below root (0: root only).
// The default is no limit. A negative depth is an error from NewTree.
func WithMaxDepth(depth int) Option { return func(c *config) { c.maxDepth = depth } }

// WithLogger logs the cache's background errors (default: none).
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

// Tree is a cache of root and its descendants. Its methods are safe for
// concurrent use. See the package documentation for order and states.
type Tree struct {
	c    *framework.Client
	root string
	cfg  config

	// snapshot, written by the loop under mu, read by Get/Children/Nodes.
	mu   sync.RWMutex
	snap map[string]*snapNode

	lmu       sync.Mutex // guards started and closed
	listeners listen.Set[Event]
	started   bool
	closed    bool

	initOnce sync.Once
	init     chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{}

	smu    sync.Mutex
	states []framework.ConnectionState

	loop loopState // owned by the loop goroutine
}

type snapNode struct {
	node Node
	kids map[string]struct{}
}

// NewTree returns a cache of root (a path relative to c's namespace). Nothing
// is read before Start. An invalid path or option is an error wrapping
// framework.ErrInvalidPath or describing the option.
func NewTree(c *framework.Client, root string, opts ...Option) (*Tree, error) {
	if c == nil {
		return nil, errors.New("cache: nil client")
	}
	if err := framework.ValidatePath(root); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	cfg := config{maxDepth: math.MaxInt, log: zap.NewNop()}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxDepth < 0 {
		return nil, fmt.Errorf("cache: max depth %d < 0", cfg.maxDepth)
	}
	t := &Tree{
		c:    c,
		root: root,
		cfg:  cfg,
		snap: map[string]*snapNode{},
		init: make(chan struct{}),
		kick: make(chan struct{}, 1),
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	return t, nil
}

// Listen registers fn to receive every later event, in order, on a goroutine
// of its own (fn may block; later events queue behind it). Register before
// Start to see the initial load. The returned function removes fn.
func (t *Tree) Listen(fn func(Event)) (remove func()) { return t.listeners.Add(fn) }

// Start begins the initial load in the background; it does not block. Use
// Initialized or AwaitInitialized to wait for it.
func (t *Tree) Start() error {
	t.lmu.Lock()
	defer t.lmu.Unlock()
	switch {
	case t.closed:
		return ErrClosed
	case t.started:
		return ErrStarted
	}
	t.started = true
	remove := t.c.AddListener(func(s framework.ConnectionState) {
		t.smu.Lock()
		t.states = append(t.states, s)
		t.smu.Unlock()
		t.wakeUp()
	})
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer remove()
		t.run(t.ctx)
	}()
	return nil
}

// Initialized is closed once the first load is complete.
func (t *Tree) Initialized() <-chan struct{} { return t.init }

// AwaitInitialized waits until the first load is complete, ctx ends or the
// cache is closed.
func (t *Tree) AwaitInitialized(ctx context.Context) error {
	select {
	case <-t.init:
		return nil
	case <-t.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the cache and its listeners and waits for their goroutines
// (including a listener callback that is running: do not call Close from
// one). Events not yet delivered are dropped. The copy stays readable.
// Calling it again is a no-op.
func (t *Tree) Close() error {
	t.lmu.Lock()
	if t.closed {
		t.lmu.Unlock()
		return nil
	}
	t.closed = true
	t.lmu.Unlock()
	t.cancel()
	t.listeners.Close()
	t.wg.Wait()
	return nil
}

// Get returns the cached node at p (relative to the client's namespace).
func (t *Tree) Get(p string) (Node, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.snap[p]
	if !ok {
		return Node{}, false
	}
	return n.node, true
}

// Children returns the sorted names of p's cached children, and false if p
// itself is not cached.
func (t *Tree) Children(p string) ([]string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.snap[p]
	if !ok {
		return nil, false
	}
	kids := make([]string, 0, len(n.kids))
	for k := range n.kids {
		kids = append(kids, k)
	}
	sort.Strings(kids)
	return kids, true
}

// Nodes returns every cached node, sorted by path.
func (t *Tree) Nodes() []Node {
	t.mu.RLock()
	out := make([]Node, 0, len(t.snap))
	for _, n := range t.snap {
		out = append(out, n.node)
	}
	t.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Len returns the number of cached nodes.
func (t *Tree) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.snap)
}

func (t *Tree) wakeUp() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// deliver applies evs to the snapshot, then hands them to the listeners.
func (t *Tree) deliver(evs []Event) {
	if len(evs) == 0 {
		return
	}
	t.mu.Lock()
	for _, ev := range evs {
		p := ev.Node.Path
		switch ev.Type {
		case NodeCreated:
			t.snap[p] = &snapNode{node: ev.Node, kids: map[string]struct{}{}}
			if p != t.root {
				parent, name := framework.SplitPath(p)
				if pn, ok := t.snap[parent]; ok {
					pn.kids[name] = struct{}{}
				}
			}
		case NodeChanged:
			if n, ok := t.snap[p]; ok {
				n.node = ev.Node
			}
		case NodeDeleted:
			delete(t.snap, p)
			if p != t.root {
				parent, name := framework.SplitPath(p)
				if pn, ok := t.snap[parent]; ok {
					delete(pn.kids, name)
				}
			}
		}
	}
	t.mu.Unlock()
	t.listeners.Push(evs...)
	for _, ev := range evs {
		if ev.Type == Initialized {
			t.initOnce.Do(func() { close(t.init) })
		}
	}
}

// isNoNode reports a missing node.
func isNoNode(err error) bool { return errors.Is(err, zk.ErrNoNode) }
