package framework

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/internal/listen"
)

// Client is a ZooKeeper client with Curator's connection-state handling,
// retries and helpers. All methods are safe for concurrent use. A Client made
// by Namespace shares the session of the client it came from.
type Client struct {
	core *core
	ns   string // server path prefix of this view, "" for none
	view bool   // made by Namespace: does not own the session

	nsMu    sync.Mutex
	nsReady bool
}

// core is the state shared by a client and its namespace views.
type core struct {
	opts    options
	log     *zap.Logger
	servers []string

	mu            sync.Mutex
	conn          *zk.Conn
	gen           uint64 // increments each time the zk.Conn is replaced
	closed        bool
	state         ConnectionState
	everConnected bool
	stateWait     chan struct{} // closed and replaced on every state change
	sess          *Session      // the current session, nil before the first and after LOST
	authed        map[uint64]bool

	negotiated atomic.Int64 // session timeout granted by the server, ms
	netMu      sync.Mutex
	netConns   map[*sniffConn]struct{}
	closedGens map[uint64]bool

	ctx    context.Context // cancelled by Close: stops every goroutine
	cancel context.CancelFunc
	done   <-chan struct{} // ctx.Done()
	wg     sync.WaitGroup

	evMu   sync.Mutex
	events []rawEvent
	evWake chan struct{}

	lmu       sync.Mutex // held across a state change and its fan-out
	listeners listen.Set[ConnectionState]
}

// New creates a client for connectString ("host:port,host:port/chroot"; the
// chroot becomes the client's namespace) and starts connecting in the
// background. Use BlockUntilConnected to wait for the first session. Close
// the client to end the session and stop its goroutines.
func New(connectString string, opts ...Option) (*Client, error) {
	servers, chroot, err := ParseConnectString(connectString)
	if err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	cr := &core{
		opts:       o,
		log:        o.logger.Named("framework"),
		servers:    servers,
		stateWait:  make(chan struct{}),
		authed:     map[uint64]bool{},
		evWake:     make(chan struct{}, 1),
		netConns:   map[*sniffConn]struct{}{},
		closedGens: map[uint64]bool{},
	}
	cr.ctx, cr.cancel = context.WithCancel(context.Background())
	cr.done = cr.ctx.Done()
	cr.mu.Lock()
	err = cr.connectLocked()
	cr.mu.Unlock()
	if err != nil {
		cr.cancel()
		return nil, err
	}
	cr.spawn(cr.manage)
	return &Client{core: cr, ns: chroot}, nil
}

// connectLocked opens a new go-zookeeper handle (a new session) as the next
// generation. Events of older generations are ignored from then on.
func (cr *core) connectLocked() error {
	cr.gen++
	gen := cr.gen
	conn, ech, err := zk.Connect(cr.servers, cr.opts.sessionTimeout,
		zk.WithLogger(zkLogger{cr.opts.logger.Named("zk")}),
		zk.WithDialer(cr.dialer(gen)),
		zk.WithEventCallback(func(ev zk.Event) {
			if ev.Type == zk.EventSession {
				cr.pushEvent(rawEvent{gen: gen, state: ev.State})
			}
		}))
	if err != nil {
		return fmt.Errorf("framework: connect %v: %w", cr.servers, err)
	}
	cr.conn = conn
	// go-zookeeper closes the event channel when its loop has exited; draining
	// it is how Close knows the handle's goroutines are gone.
	cr.wg.Add(1)
	go func() {
		defer cr.wg.Done()
		for range ech {
		}
	}()
	return nil
}

// spawn runs f on a goroutine tracked by Close; false if the client is closed.
func (cr *core) spawn(f func()) bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.closed {
		return false
	}
	cr.wg.Add(1)
	go func() {
		defer cr.wg.Done()
		f()
	}()
	return true
}

// goUser runs f, which calls the application's code (a watch callback), on
// a goroutine Close does not wait for: a callback that blocks must not block
// Close (listeners get the same from listen.Set.Stop). f must end promptly
// once the client is closed, but for the callback it may be in. It returns
// false, without running f, when the client is closed.
func (cr *core) goUser(f func()) bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.closed {
		return false
	}
	go f()
	return true
}

// current returns the live go-zookeeper handle and its generation.
func (cr *core) current() (*zk.Conn, uint64, error) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.closed {
		return nil, 0, ErrClosed
	}
	return cr.conn, cr.gen, nil
}

func (cr *core) isClosed() bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.closed
}

// Close ends the session (its ephemeral nodes go at once), stops background
// work (guaranteed deletes still pending are abandoned), ends every watch
// and listener, and waits for the client's own goroutines to exit. It does
// not wait for a listener or watch callback that is running: that call
// returns in its own time, and no callback starts after Close. Calling it
// again is a no-op.
func (c *Client) Close() error {
	if c.view {
		return fmt.Errorf("framework: %w", ErrNamespaceView)
	}
	cr := c.core
	cr.mu.Lock()
	if cr.closed {
		cr.mu.Unlock()
		return nil
	}
	cr.closed = true
	conn, gen := cr.conn, cr.gen
	cr.cancel()
	// Stop, not Close: a listener may block for ever, and Close must return.
	cr.listeners.Stop()
	if cr.sess != nil {
		cr.sess.end()
		cr.sess = nil
	}
	cr.mu.Unlock()
	cr.closeHandle(conn, gen)
	cr.wg.Wait()
	return nil
}

// Done is closed when the client is closed, so loops built on the client
// (recipes) can stop with it.
func (c *Client) Done() <-chan struct{} { return c.core.done }

// State returns the current connection state (0, "LATENT", before the first
// session).
func (c *Client) State() ConnectionState {
	c.core.mu.Lock()
	defer c.core.mu.Unlock()
	return c.core.state
}

// SessionID returns the id of the current session, 0 when there is none.
func (c *Client) SessionID() int64 {
	conn, _, err := c.core.current()
	if err != nil {
		return 0
	}
	return conn.SessionID()
}

// Conn returns the underlying go-zookeeper connection for uses this package
// does not cover. It is replaced by a new one when the client declares LOST,
// so do not keep it.
func (c *Client) Conn() *zk.Conn {
	conn, _, _ := c.core.current()
	return conn
}

// BlockUntilConnected waits until the client is connected (CONNECTED,
// RECONNECTED or READ_ONLY), ctx ends (an error wrapping ErrNotConnected and
// ctx's error), or the client closes (ErrClosed).
func (c *Client) BlockUntilConnected(ctx context.Context) error {
	if err := c.core.waitConnected(ctx); err != nil {
		return fmt.Errorf("framework: %w", err)
	}
	return nil
}

func (cr *core) waitConnected(ctx context.Context) error {
	for {
		cr.mu.Lock()
		s, wait, closed := cr.state, cr.stateWait, cr.closed
		cr.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if s.IsConnected() {
			return nil
		}
		select {
		case <-wait:
		case <-cr.done:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNotConnected, ctx.Err())
		}
	}
}

// waitConnectedFor waits at most d for a connection; the caller attempts its
// operation either way, as Curator does.
func (cr *core) waitConnectedFor(ctx context.Context, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_ = cr.waitConnected(ctx)
}
