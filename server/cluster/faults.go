package cluster

import (
	"net"
	"sync"
	"sync/atomic"
)

// Faults is a switch in front of a node's peer connections, Raft's and
// herd's own: a test cuts the node from all or some of its peers and heals it
// again. A cut closes the connections it affects at once and refuses new ones
// in both directions, so the node and its peers see what a network partition
// shows them. The zero value cuts nothing. Pass it in Config.Faults.
//
// It can also stall the node's state machine (StallApply): the node keeps
// following its leader and storing the log, but applies nothing, as a node
// with a slow disk or a long pause falls behind; and slow its log's fsyncs
// (SlowDisk).
type Faults struct {
	mu      sync.Mutex
	all     bool
	blocked map[int]bool
	conns   map[*faultConn]struct{}
	stalled chan struct{} // closed by ResumeApply; nil when not stalled

	fsyncDelay atomic.Int64 // SlowDisk's delay, a time.Duration
}

// StallApply stops the node applying entries until ResumeApply.
func (f *Faults) StallApply() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stalled == nil {
		f.stalled = make(chan struct{})
	}
}

// ResumeApply lets a stalled node apply again.
func (f *Faults) ResumeApply() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stalled != nil {
		close(f.stalled)
		f.stalled = nil
	}
}

// waitApply blocks while the node is stalled, or until stop closes.
func (f *Faults) waitApply(stop <-chan struct{}) {
	if f == nil {
		return
	}
	f.mu.Lock()
	ch := f.stalled
	f.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-stop:
		}
	}
}

// Cut separates the node from every peer.
func (f *Faults) Cut() {
	f.mu.Lock()
	f.all = true
	f.mu.Unlock()
	f.closeBlocked()
}

// CutFrom separates the node from the given peers only.
func (f *Faults) CutFrom(ids ...int) {
	f.mu.Lock()
	if f.blocked == nil {
		f.blocked = map[int]bool{}
	}
	for _, id := range ids {
		f.blocked[id] = true
	}
	f.mu.Unlock()
	f.closeBlocked()
}

// Heal lifts every cut.
func (f *Faults) Heal() {
	f.mu.Lock()
	f.all, f.blocked = false, nil
	f.mu.Unlock()
}

// Blocked reports whether traffic with peer id is cut.
func (f *Faults) Blocked(id int) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.all || f.blocked[id]
}

func (f *Faults) closeBlocked() {
	f.mu.Lock()
	var victims []*faultConn
	for c := range f.conns {
		if f.all || f.blocked[c.peer] {
			victims = append(victims, c)
		}
	}
	f.mu.Unlock()
	for _, c := range victims {
		c.Close()
	}
}

// track watches a connection with peer so a later cut closes it.
func (f *Faults) track(c net.Conn, peer int) net.Conn {
	if f == nil {
		return c
	}
	fc := &faultConn{Conn: c, peer: peer, f: f}
	f.mu.Lock()
	if f.conns == nil {
		f.conns = map[*faultConn]struct{}{}
	}
	f.conns[fc] = struct{}{}
	f.mu.Unlock()
	return fc
}

type faultConn struct {
	net.Conn
	peer int
	f    *Faults
	once sync.Once
}

func (c *faultConn) Close() error {
	c.once.Do(func() {
		c.f.mu.Lock()
		delete(c.f.conns, c)
		c.f.mu.Unlock()
	})
	return c.Conn.Close()
}
