package lock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/contend"
)

// Semaphore is Curator's InterProcessSemaphoreV2: at most maxLeases leases
// on a path at a time, across processes.
//
// Layout (Curator's):
//
//	<path>/locks/_c_<uuid>-lock-<seq>        a Mutex: the entry gate
//	<path>/leases/_c_<uuid>-lease-<seq>      EPHEMERAL_SEQUENTIAL, one per lease held or wanted
//
// To acquire, a participant takes the gate, creates its lease node and, while
// the leases directory has more than maxLeases children, waits on a children
// watch; then it releases the gate. Only the gate holder watches leases/,
// and everyone else waits on the gate's chain of predecessors, so a release
// wakes one process. As in Curator, maxLeases is not stored in ZooKeeper:
// every participant must use the same number.
//
// Connection states: SUSPENDED leaves waiters waiting and closes a lease's
// Lost once it lasts longer than the grace (WithGrace, default 0);
// RECONNECTED to the same session changes nothing; LOST ends every lease of
// the session (their nodes are gone; Lost closes), and an AcquireN in
// progress starts again from the gate on the next session, giving back the
// leases it had taken.
type Semaphore struct {
	c      *framework.Client
	path   string
	max    int
	cfg    config
	err    error
	gate   *Mutex
	leases contend.Contender
}

// Lease is one unit of a Semaphore, held until Release.
type Lease struct {
	s  *Semaphore
	h  *hold
	mu sync.Mutex
	ok bool // not yet released
}

// NewSemaphore returns a semaphore on path allowing maxLeases leases. A
// maxLeases below 1 is reported by every call (ErrInvalidArgument), as are a
// nil client and an invalid path.
func NewSemaphore(c *framework.Client, path string, maxLeases int, opts ...Option) *Semaphore {
	s := &Semaphore{c: c, path: path, max: maxLeases, cfg: newConfig(opts)}
	s.err = checkArgs(c, path)
	if s.err == nil && maxLeases < 1 {
		s.err = fmt.Errorf("semaphore %s: %w: maxLeases %d < 1", path, ErrInvalidArgument, maxLeases)
	}
	if s.err != nil {
		return s
	}
	// The gate is held only for the moments of an acquire: it needs no grace.
	s.gate = NewMutex(c, framework.JoinPath(path, "locks"))
	s.leases = contend.Contender{Client: c, Dir: framework.JoinPath(path, "leases"), Name: "lease-", Data: s.cfg.data}
	return s
}

// errRestart: a session ended during AcquireN; take the gate again.
var errRestart = errors.New("semaphore: session ended during acquire")

// Acquire blocks until it holds one lease, ctx ends, or the client closes.
func (s *Semaphore) Acquire(ctx context.Context) (*Lease, error) {
	ls, err := s.AcquireN(ctx, 1)
	if err != nil {
		return nil, err
	}
	return ls[0], nil
}

// AcquireN blocks until it holds n leases at once, or fails holding none of
// them. Unlike Curator's acquire(qty), which takes the gate once per lease and
// so lets two callers each hold part of what they need and wait for ever,
// AcquireN keeps the gate until it has all n. n must be in 1..maxLeases.
func (s *Semaphore) AcquireN(ctx context.Context, n int) ([]*Lease, error) {
	if s.err != nil {
		return nil, s.err
	}
	if n < 1 || n > s.max {
		return nil, fmt.Errorf("semaphore %s: %w: %d leases of %d", s.path, ErrInvalidArgument, n, s.max)
	}
	for {
		ls, err := s.acquireN(ctx, n)
		if !errors.Is(err, errRestart) {
			return ls, err
		}
	}
}

func (s *Semaphore) acquireN(ctx context.Context, n int) (leases []*Lease, err error) {
	if err := s.gate.Lock(ctx); err != nil {
		return nil, fmt.Errorf("semaphore %s: %w", s.path, err)
	}
	defer func() {
		cctx, cancel := cleanupCtx(ctx)
		defer cancel()
		_ = s.gate.Unlock(cctx)
		if err != nil {
			for _, l := range leases {
				_ = l.Release(cctx)
			}
			leases = nil
		}
	}()
	for len(leases) < n {
		node, err := s.leases.Create(ctx)
		if err != nil {
			return leases, fmt.Errorf("semaphore %s: %w", s.path, err)
		}
		st, err := s.waitLease(ctx, node)
		if err != nil {
			s.leases.Cleanup(ctx, node)
			if errors.Is(err, contend.ErrGone) && ctx.Err() == nil {
				return leases, errRestart
			}
			return leases, fmt.Errorf("semaphore %s: %w", s.path, err)
		}
		leases = append(leases, &Lease{s: s, h: newHold(node, st.Czxid, s.cfg.grace), ok: true})
	}
	return leases, nil
}

// waitLease waits, with the gate held, until the leases directory (our node
// included) has at most maxLeases children.
func (s *Semaphore) waitLease(ctx context.Context, n *contend.Node) (*zk.Stat, error) {
	owner := s.leases.CheckOwner(ctx, n)
	defer owner.Stop()
	for {
		select {
		case <-n.Session.Done():
			return nil, contend.ErrGone
		default:
		}
		kids, _, ch, err := s.c.ChildrenW(ctx, s.leases.Dir)
		if errors.Is(err, zk.ErrNoNode) {
			return nil, contend.ErrGone
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(kids, n.Name) {
			return nil, contend.ErrGone
		}
		if len(kids) <= s.max {
			return owner.Result()
		}
		select {
		case <-ch:
			if s.leases.OnWake != nil {
				s.leases.OnWake()
			}
		case <-n.Session.Done():
			return nil, contend.ErrGone
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Participants returns the full paths of the lease nodes (held or wanted).
func (s *Semaphore) Participants(ctx context.Context) ([]string, error) {
	if s.err != nil {
		return nil, s.err
	}
	kids, err := s.leases.Sorted(ctx)
	if err != nil {
		return nil, fmt.Errorf("semaphore %s: %w", s.path, err)
	}
	for i, k := range kids {
		kids[i] = framework.JoinPath(s.leases.Dir, k)
	}
	return kids, nil
}

// Release gives the lease back by deleting its node (a guaranteed delete:
// if the server cannot be reached before ctx ends, the client goes on in the
// background and the error says so). A second Release returns ErrNotHeld.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	ok := l.ok
	l.ok = false
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("semaphore %s: %w", l.s.path, ErrNotHeld)
	}
	l.h.end()
	if err := l.s.leases.Remove(ctx, l.h.node); err != nil {
		return fmt.Errorf("semaphore %s: release: %w", l.s.path, err)
	}
	return nil
}

// Lost returns a channel closed when the lease ends or can no longer be
// trusted (Release, SUSPENDED past the grace, LOST).
func (l *Lease) Lost() <-chan struct{} { return l.h.lost }

// Node is the lease node's path.
func (l *Lease) Node() string { return l.h.node.Path }
