package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// lead is one term of leadership: it keeps every task assigned to a live
// worker, balanced, until ctx ends (leadership lost, or shutdown).
func (p *pool) lead(ctx context.Context) error {
	p.say("leader %s", p.cfg.id)
	if err := p.seed(ctx); err != nil {
		return err
	}
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		workers, _, changed, err := p.c.ChildrenW(ctx, p.path("workers"))
		if err != nil {
			return err
		}
		if err := p.assign(ctx, workers); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A worker acknowledged a handoff meanwhile, or we are no longer
			// leader (our election node is gone): look again soon.
			p.cfg.logger.Info("assignment round failed", zap.Error(err))
			retry.Reset(200 * time.Millisecond)
		}
		select {
		case <-changed:
		case <-retry.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// seed creates the pool's directories and tasks if they are missing.
func (p *pool) seed(ctx context.Context) error {
	for _, d := range []string{"workers", "tasks", "assignments"} {
		if err := p.c.EnsurePath(ctx, p.path(d)); err != nil {
			return err
		}
	}
	for i := range p.cfg.tasks {
		_, err := p.c.Create(ctx, p.path("tasks", fmt.Sprintf("task-%02d", i)), nil)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return err
		}
	}
	return nil
}

// assign reads every task's assignment and writes the changes that make
// each task owned by exactly one live worker, with loads differing by at most
// one. A task moving between two live workers is handed over: the leader
// writes "old>new", old stops it and writes "new", and only then does new
// start it.
func (p *pool) assign(ctx context.Context, workers []string) error {
	tasks, _, err := p.c.Children(ctx, p.path("tasks"))
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, w := range workers {
		live[w] = true
	}
	if len(live) == 0 {
		return nil
	}
	state := map[string]assignment{}
	for _, t := range tasks {
		data, st, err := p.c.Get(ctx, p.path("assignments", t))
		switch {
		case errors.Is(err, zk.ErrNoNode):
			state[t] = assignment{}
		case err != nil:
			return err
		default:
			owner, next := parseAssignment(data)
			state[t] = assignment{owner: owner, next: next, version: st.Version, exists: true}
		}
	}
	// Load counts a task for the worker that has it or is about to.
	load := map[string]int{}
	for w := range live {
		load[w] = 0
	}
	want := map[string]assignment{}
	for _, t := range tasks {
		a := state[t]
		switch {
		case a.next != "" && live[a.owner] && live[a.next]:
			// A handoff in progress: leave it to the old owner.
		case a.next != "" && live[a.next]:
			a.owner, a.next = a.next, "" // the old owner died: finish it
		case a.next != "" && live[a.owner]:
			a.next = "" // the new owner died: cancel it
		case a.owner == "" || !live[a.owner] || a.next != "":
			a.owner, a.next = "", "" // unassigned, or its owner died
		}
		want[t] = a
		if a.owner != "" {
			if a.next != "" {
				load[a.next]++
			} else {
				load[a.owner]++
			}
		}
	}
	for _, t := range tasks {
		if a := want[t]; a.owner == "" {
			a.owner = leastLoaded(load)
			load[a.owner]++
			want[t] = a
		}
	}
	// Balance: hand tasks from the busiest worker to the idlest.
	for {
		busy, idle := mostLoaded(load), leastLoaded(load)
		if load[busy]-load[idle] <= 1 {
			break
		}
		moved := false
		for _, t := range tasks {
			if a := want[t]; a.owner == busy && a.next == "" {
				a.next = idle
				want[t] = a
				load[busy]--
				load[idle]++
				moved = true
				break
			}
		}
		if !moved {
			break
		}
	}
	for _, t := range tasks {
		old, a := state[t], want[t]
		if old.exists && old.owner == a.owner && old.next == a.next {
			continue
		}
		if err := p.write(ctx, t, old, a); err != nil {
			return err
		}
	}
	return nil
}

// write changes one assignment, fenced by our election node: if we are no
// longer leader the transaction fails and nothing changes.
func (p *pool) write(ctx context.Context, task string, old, a assignment) error {
	node := p.sel.Node()
	if node == "" {
		return errors.New("not leader")
	}
	path := p.path("assignments", task)
	txn := p.c.Txn().Check(node, -1)
	if old.exists {
		txn.Set(path, a.encode(), old.version)
	} else {
		txn.Create(path, a.encode(), framework.ModePersistent, nil)
	}
	if _, err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("assign %s: %w", task, err)
	}
	return nil
}

func leastLoaded(load map[string]int) string {
	best := ""
	for _, w := range sortedKeys(keys(load)) {
		if best == "" || load[w] < load[best] {
			best = w
		}
	}
	return best
}

func mostLoaded(load map[string]int) string {
	best := ""
	for _, w := range sortedKeys(keys(load)) {
		if best == "" || load[w] > load[best] {
			best = w
		}
	}
	return best
}

func keys(m map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
