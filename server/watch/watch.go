// Package watch keeps the server's watch tables and turns tree changes into the
// notifications each watching connection must receive.
//
// It follows ZooKeeper's two-table model: a data table (one-shot watches set by
// exists and getData, plus persistent and persistent-recursive watches) and a
// child table (one-shot watches set by getChildren, plus persistent watches).
// A connection gets at most one notification per trigger, however many of its
// watches match.
//
// The Manager is safe for concurrent use, but callers that need a read and its
// watch registration to be atomic with respect to writes (every caller does) must
// serialise them with the writes themselves; the server holds its tree lock.
package watch

import (
	"sort"
	"strings"
	"sync"

	"github.com/herd-io/herd/server/proto"
)

// Watcher receives notifications. Notify must not block: connections queue the
// event on their outbound stream.
type Watcher interface {
	Notify(ev Event)
}

// Event is one notification for one watcher.
type Event struct {
	Type proto.EventType
	Path string
	Zxid int64
}

// Mode is how a watch behaves once triggered.
type Mode uint8

// Watch modes.
const (
	// Standard watches fire once and are removed.
	Standard Mode = iota
	// Persistent watches stay and fire for the exact path.
	Persistent
	// PersistentRecursive watches stay and fire for the path and every descendant,
	// but never for child-list changes.
	PersistentRecursive
)

type table map[string]map[Watcher]Mode

func (t table) add(path string, w Watcher, m Mode) {
	ws := t[path]
	if ws == nil {
		ws = make(map[Watcher]Mode)
		t[path] = ws
	}
	// A persistent registration is never downgraded to a one-shot one.
	if old, ok := ws[w]; ok && old != Standard && m == Standard {
		return
	}
	ws[w] = m
}

func (t table) remove(path string, w Watcher) {
	if ws := t[path]; ws != nil {
		delete(ws, w)
		if len(ws) == 0 {
			delete(t, path)
		}
	}
}

// Manager holds every connection's watches.
type Manager struct {
	mu        sync.Mutex
	data      table
	child     table
	recursive int // number of persistent-recursive registrations, to skip ancestor walks when zero
	byWatcher map[Watcher]map[string]struct{}
}

// NewManager returns an empty Manager.
func NewManager() *Manager {
	return &Manager{data: table{}, child: table{}, byWatcher: map[Watcher]map[string]struct{}{}}
}

func (m *Manager) note(path string, w Watcher) {
	ps := m.byWatcher[w]
	if ps == nil {
		ps = make(map[string]struct{})
		m.byWatcher[w] = ps
	}
	ps[path] = struct{}{}
}

// AddData registers a one-shot data watch (exists, getData).
func (m *Manager) AddData(path string, w Watcher) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data.add(path, w, Standard)
	m.note(path, w)
}

// AddChild registers a one-shot child watch (getChildren).
func (m *Manager) AddChild(path string, w Watcher) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.child.add(path, w, Standard)
	m.note(path, w)
}

// AddPersistent registers a persistent watch (addWatch mode 0 in both tables, or
// mode 1 recursive in the data table).
func (m *Manager) AddPersistent(path string, w Watcher, recursive bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if recursive {
		if old, ok := m.data[path][w]; !ok || old != PersistentRecursive {
			m.recursive++
		}
		m.data.add(path, w, PersistentRecursive)
	} else {
		m.dropRecursive(path, w)
		m.data.add(path, w, Persistent)
		m.child.add(path, w, Persistent)
	}
	m.note(path, w)
}

func (m *Manager) dropRecursive(path string, w Watcher) {
	if old, ok := m.data[path][w]; ok && old == PersistentRecursive {
		m.recursive--
	}
}

// Trigger delivers ev to every matching watcher and removes the one-shot watches
// it consumed. ev.Type decides the tables: NodeCreated and NodeDataChanged use the
// data table, NodeChildrenChanged the child table, NodeDeleted both. It returns the
// number of watchers notified.
func (m *Manager) Trigger(ev Event) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	notified := make(map[Watcher]struct{})
	consume := func(t table, path string, exactOnly bool) {
		ws := t[path]
		for w, mode := range ws {
			if exactOnly && mode == PersistentRecursive {
				continue
			}
			notified[w] = struct{}{}
			if mode == Standard {
				delete(ws, w)
				m.forget(path, w)
			}
		}
		if len(ws) == 0 {
			delete(t, path)
		}
	}
	switch ev.Type {
	case proto.EventNodeCreated, proto.EventNodeDataChanged:
		consume(m.data, ev.Path, false)
	case proto.EventNodeChildrenChanged:
		consume(m.child, ev.Path, false)
	case proto.EventNodeDeleted:
		consume(m.data, ev.Path, false)
		consume(m.child, ev.Path, false)
	}
	if m.recursive > 0 && ev.Type != proto.EventNodeChildrenChanged {
		for p := parent(ev.Path); p != ""; p = parent(p) {
			for w, mode := range m.data[p] {
				if mode == PersistentRecursive {
					notified[w] = struct{}{}
				}
			}
		}
	}
	for w := range notified {
		w.Notify(ev)
	}
	return len(notified)
}

// forget drops path from w's index when no table still holds w at path.
func (m *Manager) forget(path string, w Watcher) {
	if _, ok := m.data[path][w]; ok {
		return
	}
	if _, ok := m.child[path][w]; ok {
		return
	}
	if ps := m.byWatcher[w]; ps != nil {
		delete(ps, path)
		if len(ps) == 0 {
			delete(m.byWatcher, w)
		}
	}
}

// parent returns the parent of p, or "" for the root.
func parent(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// RemoveWatcher drops every watch of w (its connection closed).
func (m *Manager) RemoveWatcher(w Watcher) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.byWatcher[w] {
		m.dropRecursive(p, w)
		m.data.remove(p, w)
		m.child.remove(p, w)
	}
	delete(m.byWatcher, w)
}

// Check reports whether w has a watch of the given type at path
// (checkWatches); Remove also removes those watches (removeWatches). Only the
// Data, Children and Any types exist in ZooKeeper 3.8's wire protocol; the
// caller rejects the others.
func (m *Manager) Check(path string, w Watcher, typ proto.WatcherType) bool {
	return m.match(path, w, typ, false)
}

// Remove removes w's watches of the given type at path and reports whether
// any was removed.
func (m *Manager) Remove(path string, w Watcher, typ proto.WatcherType) bool {
	return m.match(path, w, typ, true)
}

func (m *Manager) match(path string, w Watcher, typ proto.WatcherType, remove bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := false
	try := func(t table, ok func(Mode) bool) {
		mode, has := t[path][w]
		if !has || !ok(mode) {
			return
		}
		found = true
		if remove {
			m.dropRecursive(path, w)
			t.remove(path, w)
		}
	}
	// As in ZooKeeper 3.8, a type selects a table, whatever the watch's mode:
	// a persistent watch is found (and removed) as a data or child watch.
	anyMode := func(Mode) bool { return true }
	switch typ {
	case proto.WatcherData:
		try(m.data, anyMode)
	case proto.WatcherChildren:
		try(m.child, anyMode)
	case proto.WatcherAny:
		try(m.data, anyMode)
		try(m.child, anyMode)
	}
	if remove && found {
		m.forget(path, w)
	}
	return found
}

// Stats summarises the data table as the wchs command reports it.
type Stats struct {
	Connections int // watchers with at least one watch
	Paths       int // paths in the data table
	Total       int // data-table registrations
}

// Stats returns the current counts.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Stats{Paths: len(m.data)}
	conns := map[Watcher]struct{}{}
	for _, ws := range m.data {
		s.Total += len(ws)
		for w := range ws {
			conns[w] = struct{}{}
		}
	}
	s.Connections = len(conns)
	return s
}

// Count returns the number of registrations in both tables (mntr's zk_watch_count).
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, ws := range m.data {
		n += len(ws)
	}
	for _, ws := range m.child {
		n += len(ws)
	}
	return n
}

// PathsOf returns the sorted paths of w's watches in the data table, what
// ZooKeeper's wchc and wchp list (DataTree.dumpWatches dumps the data
// watches only: a getChildren watch does not show).
func (m *Manager) PathsOf(w Watcher) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.byWatcher[w]))
	for p := range m.byWatcher[w] {
		if _, ok := m.data[p][w]; ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
