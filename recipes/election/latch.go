package election

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/contend"
)

// Latch is Curator's LeaderLatch: every participant keeps a node in the
// election; the one whose node comes first is leader until it closes, its
// connection stays SUSPENDED past the grace, or its session ends.
//
// Layout (Curator's, so Go and Curator latches elect one leader together):
//
//	<path>/                                  container
//	  _c_<uuid>-latch-0000000003             EPHEMERAL_SEQUENTIAL, data = id: the leader
//	  _c_<uuid>-latch-0000000004             a participant, watching ...03 only
//	  _c_<uuid>-latch-0000000005             a participant, watching ...04 only
//
// Children sort by the text after "latch-"; each participant watches only
// its predecessor; before claiming leadership it checks that its node is
// owned by its current session (CURATOR-696).
//
// Connection states:
//   - SUSPENDED: leadership is given up (Leadership receives false) once
//     SUSPENDED lasts longer than the grace (WithGrace; default 0, at once).
//     The node stays: the participant keeps its place.
//   - RECONNECTED to the same session: the participant looks at the order
//     again and, if still first, is leader again (Leadership receives true).
//   - LOST: leadership is given up; the old node is deleted (in case the
//     server has not expired it yet) and the participant joins again with a
//     new node, at the back of the queue.
//
// All methods are safe for concurrent use.
type Latch struct {
	c    *framework.Client
	path string
	id   string
	cfg  config
	err  error
	k    contend.Contender

	opMu sync.Mutex // serialises Start and Close

	mu      sync.Mutex
	started bool
	closed  bool // Close was called
	ended   bool // the loop has stopped (Close, or the client closed)
	leader  bool
	changed chan struct{} // closed and replaced whenever leader or ended changes
	node    *contend.Node
	subs    map[*subscriber]struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	endOnce sync.Once
}

// NewLatch returns a latch for participant id on path; Start joins the
// election. A nil client or an invalid path is reported by Start.
func NewLatch(c *framework.Client, path, id string, opts ...Option) *Latch {
	l := &Latch{c: c, path: path, id: id, cfg: newConfig(opts), changed: make(chan struct{}), subs: map[*subscriber]struct{}{}}
	l.err = checkArgs(c, path)
	l.k = contend.Contender{Client: c, Dir: path, Name: "latch-", Data: []byte(id), Rule: contend.First}
	return l
}

// Start joins the election: it creates this participant's node (waiting,
// within ctx, for a connection if need be) and then follows the election in
// the background until Close. It fails with ErrStarted on a second call and
// ErrClosed after Close.
func (l *Latch) Start(ctx context.Context) error {
	if l.err != nil {
		return l.err
	}
	l.opMu.Lock()
	defer l.opMu.Unlock()
	l.mu.Lock()
	started, closed := l.started, l.closed
	l.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("election %s: %w", l.path, ErrClosed)
	case started:
		return fmt.Errorf("election %s: %w", l.path, ErrStarted)
	}
	n, err := l.k.Create(ctx)
	if err != nil {
		return fmt.Errorf("election %s: %w", l.path, err)
	}
	loop, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	l.started, l.node, l.cancel, l.done = true, n, cancel, make(chan struct{})
	l.mu.Unlock()
	go l.run(loop, n)
	return nil
}

// run follows the election until ctx ends or the client closes.
func (l *Latch) run(ctx context.Context, n *contend.Node) {
	defer close(l.done)
	defer l.end()
	retry := newRetryDelay()
	for {
		if n == nil {
			var err error
			if n, err = l.k.Create(ctx); err != nil {
				if l.stop(ctx, err) || !retry.wait(ctx) {
					return
				}
				continue
			}
			l.setNode(n)
		}
		_, err := l.k.Wait(ctx, n, false)
		switch {
		case errors.Is(err, contend.ErrGone):
			l.k.Cleanup(ctx, n)
			n = nil
			l.setNode(nil)
			continue
		case err != nil:
			if l.stop(ctx, err) || !retry.wait(ctx) {
				return
			}
			continue
		}
		retry.reset()
		fence, stopFence := n.Session.Fence(l.cfg.grace)
		l.setLeader(true)
		select {
		case <-fence:
		case <-ctx.Done():
		}
		stopFence()
		l.setLeader(false)
		// Not leader again before the connection is back; a session that
		// ended meanwhile shows in the next Wait as ErrGone.
		if err := l.c.BlockUntilConnected(ctx); err != nil {
			return
		}
	}
}

// stop reports whether the loop must end rather than retry after err.
func (l *Latch) stop(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, framework.ErrClosed) {
		return true
	}
	l.cfg.log.Warn("leader latch: retrying", zap.String("path", l.path), zap.Error(err))
	return false
}

func (l *Latch) setNode(n *contend.Node) {
	l.mu.Lock()
	l.node = n
	l.mu.Unlock()
}

func (l *Latch) setLeader(v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leader == v || l.ended {
		return
	}
	l.leader = v
	for s := range l.subs {
		s.push(v)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// end marks the loop stopped: leadership false, Leadership channels closed
// (the close itself says "not leader" to their readers).
func (l *Latch) end() {
	l.endOnce.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.leader, l.ended = false, true
		for s := range l.subs {
			s.close()
		}
		l.subs = nil
		close(l.changed)
		l.changed = make(chan struct{})
	})
}

// Await blocks until this participant is leader, ctx ends, or the latch is
// closed (ErrClosed).
func (l *Latch) Await(ctx context.Context) error {
	if l.err != nil {
		return l.err
	}
	for {
		l.mu.Lock()
		leader, ended, ch := l.leader, l.ended, l.changed
		l.mu.Unlock()
		switch {
		case leader:
			return nil
		case ended:
			return fmt.Errorf("election %s: %w", l.path, ErrClosed)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("election %s: %w", l.path, ctx.Err())
		}
	}
}

// HasLeadership reports whether this participant is leader now.
func (l *Latch) HasLeadership() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader
}

// Leadership returns a channel that receives true each time this participant
// becomes leader and false each time it stops being leader, from the call
// on (true first if it is leader at the call). Values queue without limit,
// so the latch never waits for a slow reader. The channel is closed when the
// latch stops (Close, or its client closed); values not yet received then
// are dropped.
func (l *Latch) Leadership() <-chan bool {
	s := newSubscriber()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		s.close()
	} else {
		l.subs[s] = struct{}{}
		if l.leader {
			s.push(true)
		}
	}
	go s.run()
	return s.out
}

// Node is the path of this participant's node ("" before Start, between a
// LOST and the new node, and after Close). Curator's getOurPath.
func (l *Latch) Node() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.node == nil {
		return ""
	}
	return l.node.Path
}

// ID is this participant's id.
func (l *Latch) ID() string { return l.id }

// Leader returns the id of the current leader (the first participant in
// election order), or ErrNoLeader.
func (l *Latch) Leader(ctx context.Context) (string, error) {
	if l.err != nil {
		return "", l.err
	}
	return leader(ctx, &l.k)
}

// Participants returns every participant in election order.
func (l *Latch) Participants(ctx context.Context) ([]Participant, error) {
	if l.err != nil {
		return nil, l.err
	}
	return participants(ctx, &l.k)
}

// Close leaves the election: the background loop stops, leadership ends
// (HasLeadership is false and the Leadership channels close), and the node is deleted within ctx (a guaranteed delete: if the server
// cannot be reached, the client goes on deleting in the background and the
// error says so). Close is idempotent.
func (l *Latch) Close(ctx context.Context) error {
	if l.err != nil {
		return l.err
	}
	l.opMu.Lock()
	defer l.opMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	started, cancel, done := l.started, l.cancel, l.done
	l.mu.Unlock()
	if !started {
		l.end()
		return nil
	}
	cancel()
	<-done
	l.mu.Lock()
	n := l.node
	l.node = nil
	l.mu.Unlock()
	if n == nil {
		return nil
	}
	if err := l.k.Remove(ctx, n); err != nil {
		return fmt.Errorf("election %s: close: %w", l.path, err)
	}
	return nil
}

// retryDelay spaces out the latch loop's retries after errors.
type retryDelay struct{ d time.Duration }

func newRetryDelay() *retryDelay { return &retryDelay{d: 50 * time.Millisecond} }

func (r *retryDelay) reset() { r.d = 50 * time.Millisecond }

// wait sleeps the current delay (doubling it up to 2 s); false if ctx ended.
func (r *retryDelay) wait(ctx context.Context) bool {
	t := time.NewTimer(r.d)
	defer t.Stop()
	if r.d < 2*time.Second {
		r.d *= 2
	}
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// subscriber delivers leadership changes to one Leadership channel, in
// order, on its own goroutine.
type subscriber struct {
	out   chan bool
	mu    sync.Mutex
	queue []bool
	wake  chan struct{}
	quit  chan struct{}
	once  sync.Once
}

func newSubscriber() *subscriber {
	return &subscriber{out: make(chan bool), wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

func (s *subscriber) push(v bool) {
	s.mu.Lock()
	s.queue = append(s.queue, v)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) close() { s.once.Do(func() { close(s.quit) }) }

func (s *subscriber) run() {
	defer close(s.out)
	for {
		s.mu.Lock()
		var next bool
		have := len(s.queue) > 0
		if have {
			next = s.queue[0]
		}
		s.mu.Unlock()
		if !have {
			select {
			case <-s.wake:
				continue
			case <-s.quit:
				return
			}
		}
		select {
		case s.out <- next:
			s.mu.Lock()
			s.queue = s.queue[1:]
			s.mu.Unlock()
		case <-s.quit:
			return
		}
	}
}
