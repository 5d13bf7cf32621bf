package wireclient

import (
	"sort"
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// watchSet is a Session's record of the watches it has set, so that they can
// be re-registered after a reconnect (SetWatches) and so that only events for
// registered watches are delivered, as the Java client delivers them. Paths
// are the caller's (chroot removed).
type watchSet struct {
	data, exist, child, persistent, recursive map[string]bool
}

func newWatchSet() *watchSet {
	return &watchSet{data: map[string]bool{}, exist: map[string]bool{}, child: map[string]bool{},
		persistent: map[string]bool{}, recursive: map[string]bool{}}
}

// deliver reports whether an event matches a watch and consumes the one-shot
// watches it triggers.
func (w *watchSet) deliver(e Event) bool {
	hit := w.persistent[e.Path] || w.recursiveCovers(e.Path)
	// Persistent recursive watches never report child changes.
	if e.Type == proto.EventNodeChildrenChanged && !w.persistent[e.Path] {
		hit = false
	}
	take := func(m map[string]bool) {
		if m[e.Path] {
			hit = true
			delete(m, e.Path)
		}
	}
	switch e.Type {
	case proto.EventNodeCreated, proto.EventNodeDataChanged:
		take(w.data)
		take(w.exist)
	case proto.EventNodeDeleted:
		take(w.data)
		take(w.exist)
		take(w.child)
	case proto.EventNodeChildrenChanged:
		take(w.child)
	}
	return hit
}

func (w *watchSet) recursiveCovers(path string) bool {
	for p := range w.recursive {
		if p == path || p == "/" || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// remove drops the watches of a type on path and returns the events the Java
// client would deliver for them, or false if there was none.
func (w *watchSet) remove(path string, typ proto.WatcherType) ([]Event, bool) {
	var evs []Event
	drop := func(m map[string]bool, t proto.EventType) {
		if m[path] {
			delete(m, path)
			evs = append(evs, Event{Type: t, State: StateSyncConnected, Path: path, Zxid: -1})
		}
	}
	if typ == proto.WatcherData || typ == proto.WatcherAny {
		drop(w.data, 5)
		drop(w.exist, 5)
	}
	if typ == proto.WatcherChildren || typ == proto.WatcherAny {
		drop(w.child, 6)
	}
	if typ == proto.WatcherAny {
		drop(w.persistent, 7)
		drop(w.recursive, 7)
	}
	return evs, len(evs) > 0
}

// has reports whether path has a watch of the given type.
func (w *watchSet) has(path string, typ proto.WatcherType) bool {
	d := w.data[path] || w.exist[path]
	c := w.child[path]
	p := w.persistent[path] || w.recursive[path]
	switch typ {
	case proto.WatcherData:
		return d
	case proto.WatcherChildren:
		return c
	}
	return d || c || p
}

// setWatches builds the re-registration request sent after a reconnect, with
// the server's paths (under chroot).
func (w *watchSet) setWatches(relZxid int64, chroot string) (proto.OpCode, *proto.SetWatches, bool) {
	keys := func(m map[string]bool) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, serverPath(chroot, k))
		}
		sort.Strings(out)
		return out
	}
	sw := &proto.SetWatches{RelativeZxid: relZxid, Data: keys(w.data), Exist: keys(w.exist), Child: keys(w.child),
		Persistent: keys(w.persistent), PersistentRecursive: keys(w.recursive)}
	empty := len(sw.Data)+len(sw.Exist)+len(sw.Child)+len(sw.Persistent)+len(sw.PersistentRecursive) == 0
	if len(sw.Persistent)+len(sw.PersistentRecursive) > 0 {
		sw.V2 = true
		return proto.OpSetWatches2, sw, !empty
	}
	return proto.OpSetWatches, sw, !empty
}
