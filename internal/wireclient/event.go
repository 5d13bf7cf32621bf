package wireclient

import (
	"sync"

	"github.com/herd-io/herd/server/proto"
)

// Event is a watch notification (ReplyHeader xid -1), or, once, the end of the
// connection: Type proto.EventNone with State StateDisconnected.
type Event struct {
	Type  proto.EventType
	State int32
	Path  string
	// Zxid is the notification's ReplyHeader zxid (-1 from 3.8 servers).
	Zxid int64
	// Trailing counts bytes the server sent after the WatcherEvent; a
	// conformant server sends none.
	Trailing int
}

// Keeper states of an Event (the Java client's Watcher.Event.KeeperState).
// A Conn reports only StateDisconnected itself; a Session reports them all.
const (
	StateDisconnected  int32 = 0
	StateSyncConnected int32 = proto.StateSyncConnected
	StateExpired       int32 = -112
	StateClosed        int32 = 7
)

// eventQueue is an unbounded queue in front of the Events channel, so a slow
// reader never stalls the connection's reply loop.
type eventQueue struct {
	mu     sync.Mutex
	items  []Event
	ended  bool
	wake   chan struct{}
	out    chan Event
	stop   chan struct{}
	exited chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1), out: make(chan Event), stop: make(chan struct{}), exited: make(chan struct{})}
	go q.forward()
	return q
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	q.signal()
}

// end marks that no more events will be pushed; out closes once drained.
func (q *eventQueue) end() {
	q.mu.Lock()
	q.ended = true
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// forward delivers queued events in order until the queue has ended and is
// empty, or until stop is closed (the owner gave up on the channel).
func (q *eventQueue) forward() {
	defer close(q.exited)
	defer close(q.out)
	for {
		q.mu.Lock()
		var next *Event
		if len(q.items) > 0 {
			next = &q.items[0]
		}
		ended := q.ended
		q.mu.Unlock()
		if next == nil {
			if ended {
				return
			}
			select {
			case <-q.wake:
				continue
			case <-q.stop:
				return
			}
		}
		select {
		case q.out <- *next:
			q.mu.Lock()
			q.items = q.items[1:]
			q.mu.Unlock()
		case <-q.stop:
			return
		}
	}
}
