// Package node holds Apache Curator's PersistentNode and PersistentTtlNode:
// a node that tries to exist for as long as the object is open, re-created
// after it is deleted, after a reconnect and after a session loss, in any
// create mode including the ephemeral ones.
//
// # Layout
//
//	<path>                         the node, in the chosen mode (container parents)
//	<parent>/_c_<uuid>-<name>      with WithProtection
//	<path><seq10>                  sequential modes: the first create picks the
//	                               name; later re-creations reuse that exact name
//	<path>/touch                   PersistentTtlNode's keep-alive child (TTL)
//
// # Connection states
//
//   - SUSPENDED: nothing to do; the node (if ephemeral) lives while the
//     session does.
//   - RECONNECTED: the node is checked and re-created if it is missing.
//   - LOST: an ephemeral node died with the session; it is re-created on
//     the new session as soon as the client reconnects. A node found owned by
//     one of this object's earlier sessions (a session the client gave up
//     while the server still held it) is deleted and created again, so it
//     does not vanish later when that session expires.
package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// ErrClosed is returned by operations on a closed node.
var ErrClosed = errors.New("node: closed")

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("node: already started")

// Option configures a Node.
type Option func(*Node)

// WithProtection gives the first create Curator's protected name
// (_c_<uuid>-<name>), for sequential modes whose name is not known until
// the reply arrives.
func WithProtection() Option { return func(n *Node) { n.protect = true } }

// WithTTL sets the TTL of a persistent-with-TTL mode.
func WithTTL(d time.Duration) Option { return func(n *Node) { n.ttl = d } }

// WithLogger logs background failures (default: none).
func WithLogger(l *zap.Logger) Option { return func(n *Node) { n.log = l } }

// Node keeps a znode present while it is open (Curator's PersistentNode). Its
// methods are safe for concurrent use. See the package documentation for the
// layout and the connection states.
type Node struct {
	c       *framework.Client
	mode    framework.CreateMode
	base    string
	protect bool
	ttl     time.Duration
	log     *zap.Logger

	mu       sync.Mutex
	data     []byte
	actual   string  // the node's path once created, "" before
	owners   []int64 // sessions that created our ephemeral node
	started  bool
	closed   bool
	created  chan struct{}
	once     sync.Once
	wake     chan struct{}
	cancel   context.CancelFunc
	loopDone chan struct{}
}

// New returns a node at path (relative to c's namespace) in mode with data.
// Nothing is created before Start. An invalid path is an error wrapping
// framework.ErrInvalidPath; a container mode, or a TTL mode without WithTTL
// (or WithTTL without one), is an error too.
func New(c *framework.Client, mode framework.CreateMode, path string, data []byte, opts ...Option) (*Node, error) {
	if c == nil {
		return nil, errors.New("node: nil client")
	}
	if err := framework.ValidatePath(path); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if path == "/" {
		return nil, fmt.Errorf("node: %w: / cannot be kept", framework.ErrInvalidPath)
	}
	n := &Node{c: c, mode: mode, base: path, data: append([]byte(nil), data...), log: zap.NewNop(),
		created: make(chan struct{}), wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(n)
	}
	switch {
	case mode == framework.ModeContainer:
		return nil, errors.New("node: a container mode cannot be kept (the server reaps it)")
	case mode.TTL() != (n.ttl > 0):
		return nil, fmt.Errorf("node: mode %d with TTL %v: a TTL mode needs WithTTL and WithTTL needs a TTL mode", mode, n.ttl)
	case mode < framework.ModePersistent || mode > framework.ModePersistentSequentialWithTTL:
		return nil, fmt.Errorf("node: unknown mode %d", mode)
	}
	return n, nil
}

// Start begins creating and watching the node in the background.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case n.started:
		return ErrStarted
	}
	n.started = true
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.loopDone = make(chan struct{})
	remove := n.c.AddListener(func(s framework.ConnectionState) {
		if s == framework.Reconnected || s == framework.Lost {
			n.kick()
		}
	})
	go func() {
		defer close(n.loopDone)
		defer remove()
		n.run(ctx)
	}()
	return nil
}

func (n *Node) kick() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// WaitForInitialCreate waits until the node was created (or adopted) the
// first time, ctx ends or the node is closed.
func (n *Node) WaitForInitialCreate(ctx context.Context) error {
	n.mu.Lock()
	done := n.loopDone
	n.mu.Unlock()
	if done == nil {
		done = make(chan struct{}) // not started: wait for ctx
	}
	select {
	case <-n.created:
		return nil
	case <-done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Path returns the node's actual path ("" before the first create). For
// sequential or protected modes it differs from the path given to New.
func (n *Node) Path() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.actual
}

// Data returns the data the node is kept with.
func (n *Node) Data() []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]byte(nil), n.data...)
}

// SetData changes the node's data: now if it exists, and for every later
// re-creation.
func (n *Node) SetData(ctx context.Context, data []byte) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	n.data = append([]byte(nil), data...)
	actual := n.actual
	n.mu.Unlock()
	if actual == "" {
		return nil
	}
	_, err := n.c.Set(ctx, actual, data)
	if errors.Is(err, zk.ErrNoNode) {
		n.kick() // the loop re-creates it with the new data
		return nil
	}
	return err
}

// Close stops keeping the node and deletes it (a guaranteed delete: retried
// in the background while the client lives if ctx ends first).
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	cancel, done := n.cancel, n.loopDone
	n.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	n.mu.Lock()
	actual := n.actual
	n.mu.Unlock()
	if actual == "" {
		return nil
	}
	if err := n.c.Delete(ctx, actual, framework.Guaranteed(), framework.Quietly()); err != nil {
		return fmt.Errorf("node: delete %s: %w", actual, err)
	}
	return nil
}

// run keeps the node present until ctx ends.
func (n *Node) run(ctx context.Context) {
	delay := 10 * time.Millisecond
	for {
		ch, err := n.ensure(ctx)
		if ctx.Err() != nil {
			return
		}
		var retry <-chan time.Time
		var timer *time.Timer
		if err != nil {
			n.log.Debug("keeping node failed; will retry", zap.String("path", n.base), zap.Error(err))
			timer = time.NewTimer(delay)
			retry = timer.C
			delay = min(2*delay, time.Second)
		} else {
			delay = 10 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-n.c.Done():
		case <-ch: // deleted, changed, or the session ended: check again
		case <-n.wake:
		case <-retry:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil || isDone(n.c.Done()) {
			return
		}
	}
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// ensure creates the node if it is missing and returns a watch on it.
func (n *Node) ensure(ctx context.Context) (<-chan zk.Event, error) {
	n.mu.Lock()
	actual, data := n.actual, n.data
	n.mu.Unlock()
	if actual != "" {
		st, ch, err := n.c.ExistsW(ctx, actual)
		if err != nil {
			return nil, err
		}
		if st != nil && !n.staleOwner(st) {
			n.markCreated()
			return ch, nil
		}
		if st != nil {
			// Our own node from a session the client gave up: it would vanish
			// when the server expires that session. Replace it now.
			if err := n.c.Delete(ctx, actual, framework.WithVersion(st.Version)); err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrBadVersion) {
				return nil, err
			}
		}
	}
	target, mode := actual, nonSequential(n.mode)
	opts := []framework.CreateOption{framework.WithContainerParents()}
	if actual == "" {
		target, mode = n.base, n.mode
		if n.protect {
			opts = append(opts, framework.WithProtection())
		}
	}
	opts = append(opts, framework.WithMode(mode))
	if n.ttl > 0 {
		opts = append(opts, framework.WithTTL(n.ttl))
	}
	sid := n.c.SessionID()
	created, err := n.c.Create(ctx, target, data, opts...)
	switch {
	case errors.Is(err, zk.ErrNodeExists):
		// Curator adopts an existing node and writes our data to it.
		created = target
		if _, err := n.c.Set(ctx, target, data); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if mode.Ephemeral() {
			n.mu.Lock()
			n.owners = append(n.owners, sid)
			n.mu.Unlock()
		}
	}
	n.mu.Lock()
	n.actual = created
	n.mu.Unlock()
	st, ch, err := n.c.ExistsW(ctx, created)
	if err != nil {
		return nil, err
	}
	if st == nil {
		n.kick() // gone already: go again
		return ch, nil
	}
	n.markCreated()
	return ch, nil
}

// staleOwner reports an ephemeral node created by an earlier session of ours.
func (n *Node) staleOwner(st *zk.Stat) bool {
	if st.EphemeralOwner == 0 || st.EphemeralOwner == n.c.SessionID() {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, o := range n.owners {
		if o == st.EphemeralOwner {
			return true
		}
	}
	return false
}

func (n *Node) markCreated() { n.once.Do(func() { close(n.created) }) }

// nonSequential is the mode for re-creating a node whose name is fixed.
func nonSequential(m framework.CreateMode) framework.CreateMode {
	switch m {
	case framework.ModeEphemeralSequential:
		return framework.ModeEphemeral
	case framework.ModePersistentSequential:
		return framework.ModePersistent
	case framework.ModePersistentSequentialWithTTL:
		return framework.ModePersistentWithTTL
	}
	return m
}
