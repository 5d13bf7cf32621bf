package cache

import (
	"fmt"

	"github.com/go-zookeeper/zk"
)

// EventType says what an Event reports.
type EventType int

// Event types, with Curator's meanings.
const (
	// NodeCreated: a node entered the cache (also for each node of a load).
	NodeCreated EventType = iota + 1
	// NodeChanged: a cached node's data or version changed.
	NodeChanged
	// NodeDeleted: a node left the cache; Event.Node is its last known state.
	NodeDeleted
	// Initialized: the initial load is complete (again after a rebuild that
	// followed ConnectionLost).
	Initialized
	// ConnectionSuspended: the connection dropped; the cache may go stale.
	ConnectionSuspended
	// ConnectionReconnected: the connection is back; the cache re-reads.
	ConnectionReconnected
	// ConnectionLost: the session is gone; the cache rebuilds on reconnect.
	ConnectionLost
)

// String returns Curator's name of the event type.
func (t EventType) String() string {
	switch t {
	case NodeCreated:
		return "NODE_CREATED"
	case NodeChanged:
		return "NODE_CHANGED"
	case NodeDeleted:
		return "NODE_DELETED"
	case Initialized:
		return "INITIALIZED"
	case ConnectionSuspended:
		return "CONNECTION_SUSPENDED"
	case ConnectionReconnected:
		return "CONNECTION_RECONNECTED"
	case ConnectionLost:
		return "CONNECTION_LOST"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Node is one cached znode. Data must not be modified.
type Node struct {
	// Path is the node's path (relative to the client's namespace).
	Path string
	// Data is the node's data as of Stat.
	Data []byte
	// Stat is the node's stat as of its last data read; child counts
	// (Cversion, NumChildren, Pzxid) may lag behind Children.
	Stat zk.Stat
}

// Event is one change of the cache. Node is set for the node event types.
type Event struct {
	Type EventType
	Node Node
}

// String is a short description for logs and test failures.
func (e Event) String() string {
	switch e.Type {
	case NodeCreated, NodeChanged, NodeDeleted:
		return fmt.Sprintf("%v %s (mzxid %#x)", e.Type, e.Node.Path, e.Node.Stat.Mzxid)
	}
	return e.Type.String()
}
