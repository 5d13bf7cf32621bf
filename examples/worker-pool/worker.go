package main

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
)

// worker follows the assignments and runs the tasks it owns. Running a task
// is printing that it owns it; a real pool would start and stop work here.
type worker struct {
	p    *pool
	wake chan struct{}

	mu       sync.Mutex
	trusted  bool                  // registered, and the connection not SUSPENDED since
	data     map[string]assignment // task -> assignment, kept by data watches
	watching map[string]bool
	stops    []func() // ends every watch when work returns
}

// work registers this process as a worker and follows its share of the
// tasks until ctx ends.
func (p *pool) work(ctx context.Context) error {
	w := &worker{p: p, wake: make(chan struct{}, 1), data: map[string]assignment{}, watching: map[string]bool{}}
	for _, d := range []string{"workers", "assignments"} {
		if err := p.c.EnsurePath(ctx, p.path(d)); err != nil {
			return err
		}
	}
	// A watch outlives the ctx that set it up: stop them all on the way out.
	defer func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, stop := range w.stops {
			stop()
		}
	}()
	tw, err := p.c.ChildrenWatch(ctx, p.path("assignments"), func(tasks []string, _ *zk.Stat) bool {
		w.follow(ctx, tasks)
		return true
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.stops = append(w.stops, tw.Stop)
	w.mu.Unlock()
	regDone := make(chan error, 1)
	go func() { regDone <- w.register(ctx) }()
	last := map[string]bool{}
	for {
		select {
		case <-w.wake:
		case err := <-regDone:
			return err
		}
		last = w.reconcile(ctx, last)
	}
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// follow starts a data watch on every task not watched yet.
func (w *worker) follow(ctx context.Context, tasks []string) {
	for _, t := range tasks {
		w.mu.Lock()
		seen := w.watching[t]
		w.watching[t] = true
		w.mu.Unlock()
		if seen {
			continue
		}
		dw, err := w.p.c.DataWatch(ctx, w.p.path("assignments", t), func(data []byte, st *zk.Stat) bool {
			w.mu.Lock()
			if st == nil {
				delete(w.data, t)
			} else {
				owner, next := parseAssignment(data)
				w.data[t] = assignment{owner: owner, next: next, version: st.Version, exists: true}
			}
			w.mu.Unlock()
			w.poke()
			return true
		})
		if err != nil {
			if ctx.Err() == nil {
				w.p.cfg.logger.Sugar().Warnf("watch %s: %v", t, err)
			}
			continue
		}
		w.mu.Lock()
		w.stops = append(w.stops, dw.Stop)
		w.mu.Unlock()
	}
}

// reconcile works out the tasks this worker owns, stops the ones handed
// away before acknowledging the handover, and reports changes.
func (w *worker) reconcile(ctx context.Context, last map[string]bool) map[string]bool {
	w.mu.Lock()
	trusted := w.trusted
	snapshot := maps.Clone(w.data)
	w.mu.Unlock()
	id := w.p.cfg.id
	owned := map[string]bool{}
	var handover []string
	if trusted {
		for t, a := range snapshot {
			switch {
			case a.owner == id && a.next == "":
				owned[t] = true
			case a.owner == id:
				handover = append(handover, t)
			}
		}
	}
	if !maps.Equal(owned, last) {
		names := sortedKeys(owned)
		if len(names) == 0 {
			names = []string{"-"}
		}
		w.p.say("worker %s owns %s", id, strings.Join(names, ","))
	}
	// Only now, with the task stopped, does the new owner get it.
	for _, t := range handover {
		a := snapshot[t]
		_, err := w.p.c.Set(ctx, w.p.path("assignments", t), []byte(a.next), framework.WithVersion(a.version))
		if err != nil && !errors.Is(err, zk.ErrBadVersion) && !errors.Is(err, zk.ErrNoNode) && ctx.Err() == nil {
			w.p.cfg.logger.Sugar().Warnf("hand %s over: %v", t, err)
			w.poke() // try again
		}
	}
	return owned
}

// register keeps workers/<id> alive: one ephemeral node per session. The
// worker trusts its assignments only while the connection has not been
// SUSPENDED since it registered on the current session.
func (w *worker) register(ctx context.Context) error {
	c := w.p.c
	node := w.p.path("workers", w.p.cfg.id)
	for {
		sess, err := c.Session(ctx)
		if err != nil {
			return err
		}
		if err := w.claim(ctx, sess, node); err != nil {
			if ctx.Err() != nil || errors.Is(err, framework.ErrClosed) {
				return err
			}
			continue
		}
		for {
			fence, stop := sess.Fence(0)
			w.setTrusted(true)
			select {
			case <-fence:
			case <-ctx.Done():
				stop()
				return ctx.Err()
			}
			stop()
			w.setTrusted(false)
			if err := c.BlockUntilConnected(ctx); err != nil {
				return err
			}
			select {
			case <-sess.Done():
			default:
				continue // back on the same session
			}
			break // a new session: register again
		}
	}
}

// claim creates workers/<id> on sess, replacing a node an older session of
// ours left behind.
func (w *worker) claim(ctx context.Context, sess *framework.Session, node string) error {
	c := w.p.c
	for {
		_, err := c.Create(ctx, node, nil, framework.WithMode(framework.ModeEphemeral))
		if !errors.Is(err, zk.ErrNodeExists) {
			return err
		}
		st, err := c.Exists(ctx, node)
		if err != nil {
			return err
		}
		if st != nil && st.EphemeralOwner == sess.ID() {
			return nil
		}
		if st != nil {
			if err := c.Delete(ctx, node, framework.WithVersion(st.Version)); err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrBadVersion) {
				return err
			}
		}
	}
}

func (w *worker) setTrusted(v bool) {
	w.mu.Lock()
	w.trusted = v
	w.mu.Unlock()
	w.poke()
}
