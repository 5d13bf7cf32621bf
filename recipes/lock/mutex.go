package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/contend"
)

// Mutex is Curator's InterProcessMutex: a fair exclusive lock on a path,
// shared with every process (Go or Curator) that locks the same path.
//
// Layout (the same names and order as Curator, so both contend correctly):
//
//	<path>/                                  container, created on first use
//	  _c_<uuid>-lock-0000000007              EPHEMERAL_SEQUENTIAL, the holder (first in order)
//	  _c_<uuid>-lock-0000000008              a waiter, watching ...07 only
//	  _c_<uuid>-lock-0000000009              a waiter, watching ...08 only
//
// Children sort by the text after the last "lock-", so the protection prefix
// plays no part; a waiter watches only its immediate predecessor, so a
// release wakes exactly one waiter.
//
// Connection states:
//   - SUSPENDED: waiters keep waiting (their node and watch survive a
//     reconnect to the same session). A holder's Lost closes once SUSPENDED
//     has lasted longer than the grace (WithGrace; default 0, at once). The
//     node stays until Unlock; a lost hold is never trusted again.
//   - RECONNECTED to the same session: waiters go on. A hold whose Lost
//     closed stays lost: Unlock and Lock again.
//   - LOST: the session's nodes are gone. A waiter deletes its old node (in
//     case the server has not expired it yet) and joins again with a new node
//     on the next session, still within Lock's ctx. A holder's Lost closes.
//
// A Mutex value excludes the goroutines that share it as sync.Mutex does: a
// second Lock waits until Unlock (see Reentrant for Curator's re-entrancy).
// All methods are safe for concurrent use.
type Mutex struct {
	path string
	cfg  config
	err  error
	k    contend.Contender
	// create makes the contender node; the read side of an RWMutex sets it.
	create func(context.Context) (*contend.Node, error)
	// turn is taken by the Lock that holds this value, until its Unlock: the
	// exclusion between goroutines sharing the value.
	turn chan struct{}
	// only, when set, limits Participants to nodes with this name (the two
	// sides of an RWMutex share one directory).
	only string

	mu    sync.Mutex
	h     *hold
	depth int
}

// NewMutex returns a Mutex on path. A nil client or an invalid path is
// reported by every call (errors.Is ErrInvalidArgument or
// framework.ErrInvalidPath); nothing is created until Lock.
func NewMutex(c *framework.Client, path string, opts ...Option) *Mutex {
	return newMutex(c, path, "lock-", nil, contend.First, opts)
}

func newMutex(c *framework.Client, path, name string, sortNames []string, rule contend.Rule, opts []Option) *Mutex {
	m := &Mutex{path: path, cfg: newConfig(opts), turn: make(chan struct{}, 1)}
	m.err = checkArgs(c, path)
	m.k = contend.Contender{Client: c, Dir: path, Name: name, SortNames: sortNames, Data: m.cfg.data, Rule: rule}
	m.create = m.k.Create
	return m
}

func checkArgs(c *framework.Client, path string) error {
	if c == nil {
		return fmt.Errorf("lock %s: %w: nil client", path, ErrInvalidArgument)
	}
	if err := framework.ValidatePath(path); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// Lock blocks until this value holds the lock, ctx ends, or the client is
// closed. When it fails, for any reason, it has removed its node (or handed
// the removal to the client's guaranteed delete when the server cannot be
// reached within a few seconds), so a waiter that gives up blocks no one.
func (m *Mutex) Lock(ctx context.Context) error {
	if m.err != nil {
		return m.err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lock %s: %w", m.path, err)
	}
	if m.reenter() {
		return nil
	}
	select {
	case m.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("lock %s: %w", m.path, ctx.Err())
	}
	return m.acquire(ctx, false)
}

// TryLock takes the lock if it is free now and otherwise returns ErrLocked at
// once (leaving no node). ctx bounds the few requests it makes.
func (m *Mutex) TryLock(ctx context.Context) error {
	if m.err != nil {
		return m.err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lock %s: %w", m.path, err)
	}
	if m.reenter() {
		return nil
	}
	select {
	case m.turn <- struct{}{}:
	default:
		return fmt.Errorf("lock %s: %w", m.path, ErrLocked)
	}
	return m.acquire(ctx, true)
}

// reenter counts one more hold when the Mutex is Reentrant and held.
func (m *Mutex) reenter() bool {
	if !m.cfg.reentrant {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return false
	}
	m.depth++
	return true
}

// acquire runs with the turn taken and gives it back on failure.
func (m *Mutex) acquire(ctx context.Context, try bool) error {
	n, st, err := m.k.AcquireWith(ctx, try, m.create)
	if err != nil {
		<-m.turn
		if errors.Is(err, contend.ErrBusy) {
			err = ErrLocked
		}
		return fmt.Errorf("lock %s: %w", m.path, err)
	}
	h := newHold(n, st.Czxid, m.cfg.grace)
	m.mu.Lock()
	m.h, m.depth = h, 1
	m.mu.Unlock()
	return nil
}

// Unlock releases the lock (for a Reentrant Mutex, the outermost hold) by
// deleting its node; Lost closes. It returns ErrNotHeld when the value does
// not hold the lock. The hold ends even when Unlock fails: the delete is
// guaranteed, so if the server cannot be reached before ctx ends the client
// keeps deleting the node in the background, and the error says so.
// Unlocking a hold that was lost is not an error.
func (m *Mutex) Unlock(ctx context.Context) error {
	if m.err != nil {
		return m.err
	}
	m.mu.Lock()
	h := m.h
	if h == nil {
		m.mu.Unlock()
		return fmt.Errorf("lock %s: %w", m.path, ErrNotHeld)
	}
	if m.depth > 1 {
		m.depth--
		m.mu.Unlock()
		return nil
	}
	m.h, m.depth = nil, 0
	m.mu.Unlock()
	h.end()
	err := m.k.Remove(ctx, h.node)
	<-m.turn
	if err != nil {
		return fmt.Errorf("lock %s: release: %w", m.path, err)
	}
	return nil
}

// Held reports whether this value holds the lock and the hold is still
// trusted (Lost has not closed).
func (m *Mutex) Held() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.h != nil && m.h.trusted()
}

// Lost returns a channel that is closed when the current hold ends or can no
// longer be trusted: Unlock, SUSPENDED for longer than the grace, or LOST.
// Work done under the lock should stop when it closes. Without a hold the
// channel is already closed.
func (m *Mutex) Lost() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return closed
	}
	return m.h.lost
}

// Token is the fencing token of the current hold, 0 without one: the
// creation zxid of the lock node. Every hold of a lock path has a token
// greater than every earlier hold's of that path, across clients and
// servers (an earlier hold's node was created earlier, or it would have
// come first), so a store that remembers the largest token it has seen can
// refuse a write from a holder that lost the lock without knowing it.
func (m *Mutex) Token() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return 0
	}
	return m.h.token
}

// Node is the path of the current hold's node, "" without one. A
// transaction that must only commit while the lock is held can include a
// check of this node (framework.Txn.Check(node, -1)).
func (m *Mutex) Node() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return ""
	}
	return m.h.node.Path
}

// heldNode is the current hold's node, nil without one.
func (m *Mutex) heldNode() *contend.Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return nil
	}
	return m.h.node
}

// Path is the lock path.
func (m *Mutex) Path() string { return m.path }

// Participants returns the full paths of the lock's contender nodes in lock
// order: the first is the holder, the others wait in turn (Curator's
// getParticipantNodes).
func (m *Mutex) Participants(ctx context.Context) ([]string, error) {
	if m.err != nil {
		return nil, m.err
	}
	kids, err := m.k.Sorted(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", m.path, err)
	}
	var out []string
	for _, k := range kids {
		if m.only == "" || strings.Contains(k, m.only) {
			out = append(out, framework.JoinPath(m.path, k))
		}
	}
	return out, nil
}

// setWakeHook is for tests: f runs each time a waiter of this value wakes.
func (m *Mutex) setWakeHook(f func()) { m.k.OnWake = f }
