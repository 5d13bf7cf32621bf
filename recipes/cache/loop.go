package cache

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// maxPasses bounds one batch under a write storm (see the package doc).
const maxPasses = 100

const (
	readData uint8 = 1 << iota
	readKids
)

// entry is the loop's view of one node. A pending entry was seen in its
// parent's children but its data is not read yet: it is not in the snapshot.
type entry struct {
	path  string
	depth int
	live  bool
	node  Node
	kids  map[string]struct{}
	dataW *watch // armed data watch, nil when none
	kidsW *watch // armed child watch, nil when none
}

// watch is one armed go-zookeeper watch. Its event can reach the loop two
// ways: poll's non-blocking receive, or the forward goroutine, which receives
// it to wake the loop. go-zookeeper sends the event into the channel and only
// then closes it, so a forward that takes the event in between would leave
// the poll its wake-up triggers an empty, open channel: the change would be
// missed and nothing would wake the loop again. forward therefore records
// that it took the event before it wakes the loop.
type watch struct {
	ch    <-chan zk.Event
	taken atomic.Bool // forward received the event
}

func newWatch(ch <-chan zk.Event) *watch { return &watch{ch: ch} }

// fired reports, without blocking, whether the watch's event has come.
func (w *watch) fired() bool {
	if w.taken.Load() {
		return true
	}
	select {
	case <-w.ch:
		return true
	default:
		return false
	}
}

// loopState is owned by the loop goroutine.
type loopState struct {
	nodes   map[string]*entry
	rootW   *watch // exists watch while root is absent
	dirty   map[string]uint8
	pending []keyed // events of the current batch
	maxZxid int64
	loaded  bool // Initialized delivered since the last LOST
	lost    bool
}

// keyed is an event with its sort key (see the package doc).
type keyed struct {
	key int64
	ev  Event
}

func (t *Tree) run(ctx context.Context) {
	ls := &t.loop
	ls.nodes = map[string]*entry{}
	ls.dirty = map[string]uint8{t.root: readData | readKids}
	delay := 10 * time.Millisecond
	for {
		t.handleStates()
		err := t.runBatch(ctx)
		if ctx.Err() != nil {
			return
		}
		var timer *time.Timer
		var retry <-chan time.Time
		switch {
		case err != nil:
			t.cfg.log.Debug("cache read failed; will retry", zap.String("root", t.root), zap.Error(err))
			timer = time.NewTimer(delay)
			retry = timer.C
			delay = min(2*delay, time.Second)
		case len(ls.dirty) > 0:
			continue // a batch cut by maxPasses: go on at once
		default:
			delay = 10 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-t.c.Done():
		case <-t.kick:
		case <-retry:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil || isDone(t.c.Done()) {
			return
		}
	}
}

// handleStates turns queued connection states into events and re-reads.
func (t *Tree) handleStates() {
	t.smu.Lock()
	states := t.states
	t.states = nil
	t.smu.Unlock()
	ls := &t.loop
	for _, s := range states {
		switch s {
		case framework.Suspended:
			t.deliver([]Event{{Type: ConnectionSuspended}})
		case framework.Lost:
			ls.lost = true
			t.deliver([]Event{{Type: ConnectionLost}})
		case framework.Reconnected:
			t.deliver([]Event{{Type: ConnectionReconnected}})
			if ls.lost {
				ls.lost = false
				ls.loaded = false
			}
			// Read everything again: what changed while we were away shows
			// up as differences, and nothing else does.
			ls.dirty[t.root] |= readData | readKids
			for p := range ls.nodes {
				ls.dirty[p] |= readData | readKids
			}
		}
	}
}

// runBatch reads until a pass sees no fired watch, then delivers the batch.
// On a read error it returns with the batch kept for the next call.
func (t *Tree) runBatch(ctx context.Context) error {
	ls := &t.loop
	for pass := 0; pass < maxPasses; pass++ {
		t.poll()
		if len(ls.dirty) == 0 {
			break
		}
		paths := make([]string, 0, len(ls.dirty))
		for p := range ls.dirty {
			paths = append(paths, p)
		}
		// Parents first, so a new child's entry exists before it is read.
		sort.Slice(paths, func(i, j int) bool {
			di, dj := strings.Count(paths[i], "/"), strings.Count(paths[j], "/")
			if di != dj {
				return di < dj
			}
			return paths[i] < paths[j]
		})
		for _, p := range paths {
			flags, ok := ls.dirty[p]
			if !ok {
				continue // removed with its subtree earlier in this pass
			}
			delete(ls.dirty, p)
			if err := t.refresh(ctx, p, flags); err != nil {
				ls.dirty[p] |= flags
				if !framework.IsRetryable(err) && ctx.Err() == nil && !errors.Is(err, framework.ErrClosed) {
					// An answer such as NoAuth: retrying will not help.
					t.cfg.log.Warn("cache cannot read node", zap.String("path", p), zap.Error(err))
					delete(ls.dirty, p)
					continue
				}
				return err
			}
		}
	}
	t.flush()
	return nil
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// flush sorts the batch and delivers it; Initialized follows a complete load.
func (t *Tree) flush() {
	ls := &t.loop
	sort.SliceStable(ls.pending, func(i, j int) bool { return ls.pending[i].key < ls.pending[j].key })
	evs := make([]Event, 0, len(ls.pending)+1)
	for _, k := range ls.pending {
		evs = append(evs, k.ev)
	}
	ls.pending = ls.pending[:0]
	if !ls.loaded && len(ls.dirty) == 0 {
		ls.loaded = true
		evs = append(evs, Event{Type: Initialized})
	}
	t.deliver(evs)
}

// poll marks dirty every node whose watch fired (non-blocking receives).
func (t *Tree) poll() {
	ls := &t.loop
	if ls.rootW != nil && ls.rootW.fired() {
		ls.rootW = nil
		ls.dirty[t.root] |= readData | readKids
	}
	for p, e := range ls.nodes {
		if e.dataW != nil && e.dataW.fired() {
			e.dataW = nil
			ls.dirty[p] |= readData
		}
		if e.kidsW != nil && e.kidsW.fired() {
			e.kidsW = nil
			ls.dirty[p] |= readKids
		}
	}
}

// forward wakes the loop when w fires; the loop learns which by polling.
// taken is set before the wake-up, so the poll that follows sees it.
func (t *Tree) forward(w *watch) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		select {
		case <-w.ch:
			w.taken.Store(true)
			t.wakeUp()
		case <-t.ctx.Done():
		}
	}()
}

func (t *Tree) emit(key int64, typ EventType, n Node) {
	t.loop.pending = append(t.loop.pending, keyed{key, Event{Type: typ, Node: n}})
}

func (t *Tree) seen(st *zk.Stat) {
	ls := &t.loop
	ls.maxZxid = max(ls.maxZxid, st.Mzxid, st.Czxid, st.Pzxid)
}

// refresh reads p's data and/or children as flags say and records events.
func (t *Tree) refresh(ctx context.Context, p string, flags uint8) error {
	ls := &t.loop
	e := ls.nodes[p]
	if e == nil {
		if p != t.root {
			return nil // left the cache meanwhile
		}
		flags = readData | readKids
	}
	if flags&readData != 0 || (e != nil && !e.live) {
		var data []byte
		var st *zk.Stat
		var ch <-chan zk.Event
		var err error
		if e != nil && e.dataW != nil {
			data, st, err = t.c.Get(ctx, p)
		} else {
			data, st, ch, err = t.c.GetWRaw(ctx, p)
		}
		if isNoNode(err) {
			return t.gone(ctx, p)
		}
		if err != nil {
			return err
		}
		t.seen(st)
		if e == nil {
			e = &entry{path: p, kids: map[string]struct{}{}}
			ls.nodes[p] = e
		}
		if ch != nil {
			e.dataW = newWatch(ch)
			t.forward(e.dataW)
		}
		if e.live && e.node.Stat.Czxid != st.Czxid {
			// Deleted and created again while we were not looking.
			t.removeKids(e, st.Czxid)
			t.emit(st.Czxid, NodeDeleted, e.node)
			e.live = false
		}
		n := Node{Path: p, Data: data, Stat: *st}
		switch {
		case !e.live:
			e.live = true
			flags |= readKids
			t.emit(st.Czxid, NodeCreated, n)
			e.node = n
		case st.Mzxid > e.node.Stat.Mzxid:
			t.emit(st.Mzxid, NodeChanged, n)
			e.node = n
		}
		// An older mzxid is a lagging server after a reconnect: keep ours.
	}
	if flags&readKids == 0 || e.depth >= t.cfg.maxDepth {
		return nil
	}
	var kids []string
	var st *zk.Stat
	var ch <-chan zk.Event
	var err error
	if e.kidsW != nil {
		kids, st, err = t.c.Children(ctx, p)
	} else {
		kids, st, ch, err = t.c.ChildrenWRaw(ctx, p)
	}
	if isNoNode(err) {
		return t.gone(ctx, p)
	}
	if err != nil {
		return err
	}
	t.seen(st)
	if ch != nil {
		e.kidsW = newWatch(ch)
		t.forward(e.kidsW)
	}
	now := make(map[string]struct{}, len(kids))
	for _, k := range kids {
		now[k] = struct{}{}
	}
	for k := range e.kids {
		if _, ok := now[k]; !ok {
			t.remove(ls.nodes[framework.JoinPath(p, k)], st.Pzxid)
			delete(e.kids, k)
		}
	}
	for k := range now {
		if _, ok := e.kids[k]; ok {
			continue
		}
		cp := framework.JoinPath(p, k)
		e.kids[k] = struct{}{}
		ls.nodes[cp] = &entry{path: cp, depth: e.depth + 1, kids: map[string]struct{}{}}
		ls.dirty[cp] |= readData | readKids
	}
	return nil
}

// gone handles a NoNode for p. The root is dropped and watched for creation;
// any other node is left for its parent's listing to remove, which knows the
// pzxid to order the deletion by.
func (t *Tree) gone(ctx context.Context, p string) error {
	ls := &t.loop
	if p != t.root {
		parent, name := framework.SplitPath(p)
		switch e := ls.nodes[p]; {
		case e != nil && !e.live:
			// Never seen: forget it quietly; the parent re-lists.
			t.remove(e, 0)
			if pe := ls.nodes[parent]; pe != nil {
				delete(pe.kids, name)
			}
		case e != nil:
			// Read again until the parent's listing (read first in the next
			// pass) drops it, or shows it was created again.
			ls.dirty[p] |= readData
		}
		ls.dirty[parent] |= readKids
		return nil
	}
	if e := ls.nodes[p]; e != nil {
		t.remove(e, ls.maxZxid)
	}
	st, ch, err := t.c.ExistsWRaw(ctx, p)
	if err != nil {
		return err
	}
	if st != nil {
		ls.dirty[p] |= readData | readKids // created meanwhile; its watch is a data watch
		t.forward(newWatch(ch))
		return nil
	}
	ls.rootW = newWatch(ch)
	t.forward(ls.rootW)
	return nil
}

// remove drops e and its subtree from the loop's tree, recording deletions
// (deepest first) for the live ones, ordered by key.
func (t *Tree) remove(e *entry, key int64) {
	if e == nil {
		return
	}
	t.removeKids(e, key)
	delete(t.loop.nodes, e.path)
	delete(t.loop.dirty, e.path)
	if e.live {
		t.emit(key, NodeDeleted, e.node)
	}
}

func (t *Tree) removeKids(e *entry, key int64) {
	for k := range e.kids {
		t.remove(t.loop.nodes[framework.JoinPath(e.path, k)], key)
	}
	e.kids = map[string]struct{}{}
	// A re-created node's old child watch fired with the delete; the next
	// listing arms a new one.
	e.kidsW = nil
}
