package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/hashicorp/raft"
)

// Role is a node's part in the cluster at one moment.
type Role int

// Roles, as ZooKeeper's srvr Mode names them (String).
const (
	// RoleNone: a member that knows no leader (an election is running, or it
	// is cut off from the majority, or it is not yet a member).
	RoleNone Role = iota
	// RoleStandalone: a node without peers.
	RoleStandalone
	// RoleLeader: this node leads.
	RoleLeader
	// RoleFollower: a voter following a leader.
	RoleFollower
	// RoleObserver: a non-voter following a leader.
	RoleObserver
)

// String returns ZooKeeper's name for the mode: "standalone", "leader",
// "follower", "observer", or "none" (srvr does not print it: a node without
// a leader is not serving).
func (r Role) String() string {
	switch r {
	case RoleStandalone:
		return "standalone"
	case RoleLeader:
		return "leader"
	case RoleFollower:
		return "follower"
	case RoleObserver:
		return "observer"
	}
	return "none"
}

// State is what a node knows about leadership at one moment.
type State struct {
	// Role is this node's part.
	Role Role
	// Leader is the current leader's id; 0 when none is known.
	Leader int
	// Term is this node's current Raft term.
	Term uint64
	// Ready reports that the node can serve clients: a leader is known and
	// this node's replica is current — a leader has applied every entry of
	// earlier terms (so leader-only duties may start), a follower has applied
	// everything its leader had committed when it began following it (as a
	// ZooKeeper follower syncs with its leader before it serves).
	Ready bool
}

// Leading reports whether the node leads and is ready: the condition for
// leader-only duties such as expiring sessions.
func (s State) Leading() bool {
	return s.Ready && (s.Role == RoleLeader || s.Role == RoleStandalone)
}

// State returns what the node knows about leadership now.
func (n *Node) State() State {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	return n.state
}

// Changed returns a channel closed at the next change of State. Read State
// after receiving to see the new value.
func (n *Node) Changed() <-chan struct{} {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	return n.changed
}

// refresh recomputes State from Raft and publishes a change.
func (n *Node) refresh() {
	rs := n.raft.State()
	term := n.raft.CurrentTerm()
	_, lid := n.raft.LeaderWithID()
	leader, _ := strconv.Atoi(string(lid))

	st := State{Term: term, Leader: leader}
	switch {
	case rs == raft.Leader:
		st.Role, st.Leader = RoleLeader, n.id
		if n.cfg.Standalone() {
			st.Role = RoleStandalone
		}
		st.Ready = n.leaderReady(term)
	case leader != 0 && (rs == raft.Follower):
		st.Role = RoleFollower
		if n.isObserver() {
			st.Role = RoleObserver
		}
		st.Ready = n.followerSynced(leader, term)
	default:
		st.Leader = 0
	}
	n.stateMu.Lock()
	old := n.state
	changed := st != old
	if changed {
		n.state = st
		close(n.changed)
		n.changed = make(chan struct{})
	}
	n.stateMu.Unlock()
	if !changed {
		return
	}
	n.log.Info("cluster state", zapState(st)...)
	switch {
	case st.Leader == 0:
		// Proposals in flight are in doubt now; the resolver settles them
		// under the next leader, or fails them.
		n.dropForwarder(fmt.Errorf("%w: no leader", ErrOutcomeUnknown))
	case st.Leader != old.Leader:
		n.dropForwarder(fmt.Errorf("%w: leader changed", ErrOutcomeUnknown))
	}
}

// followKey names one leader in one term.
type followKey struct {
	leader int
	term   uint64
}

// followerSynced reports whether this node has caught up with leader in
// term, starting the catch-up the first time they are seen: it asks the
// leader for its commit index and waits until it has applied that far.
func (n *Node) followerSynced(leader int, term uint64) bool {
	key := followKey{leader, term}
	n.markerMu.Lock()
	defer n.markerMu.Unlock()
	if n.synced == key {
		return true
	}
	if n.syncing != key {
		n.syncing = key
		n.wg.Add(1)
		go n.syncWithLeader(key)
	}
	return false
}

func (n *Node) syncWithLeader(key followKey) {
	defer n.wg.Done()
	// Shutdown ends the wait too: it kills the forwarder, and WaitApplied
	// watches n.done.
	ctx, cancel := context.WithTimeout(context.Background(), 10*n.timing.ElectionTimeout+5*time.Second)
	defer cancel()
	err := n.syncOnce(ctx, key.leader)
	n.markerMu.Lock()
	if err == nil && n.syncing == key {
		n.synced = key
	} else if n.syncing == key {
		// Try again at the next refresh (a new forwarder, perhaps a new leader).
		n.syncing = followKey{}
	}
	n.markerMu.Unlock()
	if err != nil {
		n.log.Debug("could not catch up with the leader", zap.Int("leader", key.leader), zapErr(err))
		select {
		case <-time.After(50 * time.Millisecond): // do not hammer an unreachable leader
		case <-n.done:
		}
	}
	n.poke()
}

func (n *Node) syncOnce(ctx context.Context, leader int) error {
	// Not forwarderNow: State does not name the new leader until this
	// refresh has finished.
	fw := n.forwarderTo(leader)
	if fw == nil {
		return ErrNoLeader
	}
	reply, err := fw.call(ctx, methodSync, nil)
	if err != nil {
		return err
	}
	if len(reply) != 8 {
		return errors.New("cluster: bad sync reply")
	}
	return n.WaitApplied(ctx, binary.BigEndian.Uint64(reply))
}

// isObserver reports whether this node is a non-voter in the latest
// configuration.
func (n *Node) isObserver() bool {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == n.raftID {
			return s.Suffrage != raft.Voter
		}
	}
	return false
}

// leaderReady reports whether this node's marker for term has been applied,
// starting it the first time term is seen. Every entry of earlier terms is
// applied before the marker, so a ready leader's replica is current.
func (n *Node) leaderReady(term uint64) bool {
	n.markerMu.Lock()
	defer n.markerMu.Unlock()
	if n.readyTerm == term {
		return true
	}
	if n.markerTerm != term {
		n.markerTerm = term
		n.wg.Add(1)
		go n.proposeMarker(term)
	}
	return false
}

func (n *Node) proposeMarker(term uint64) {
	defer n.wg.Done()
	env := envelope{kind: kindMarker, node: n.self, incarnation: n.incarnation, seq: n.seq.Add(1), term: term}
	f := n.apply(env.encode())
	if err := f.Error(); err != nil {
		n.log.Debug("leader marker not committed", zapErr(err))
		return
	}
	if _, ok := f.Response().(dropped); ok {
		return
	}
	n.markerMu.Lock()
	if n.markerTerm == term {
		n.readyTerm = term
	}
	n.markerMu.Unlock()
	n.poke()
}

// poke asks the monitor to refresh State now.
func (n *Node) poke() {
	select {
	case n.pokeCh <- struct{}{}:
	default:
	}
}
