package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// ErrConfigChanged is returned by ChangeMembers when the membership is no
// longer the version the caller expected (reconfig's curConfigId).
var ErrConfigChanged = errors.New("cluster: membership changed since the expected version")

// Members returns the latest membership and the index of the entry that set
// it (its version, as /zookeeper/config shows it).
func (n *Node) Members() ([]Member, uint64, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, 0, err
	}
	if n.cfg.Standalone() {
		return nil, f.Index(), nil
	}
	ms, err := membersFromRaft(f.Configuration())
	return ms, f.Index(), err
}

// member looks a member up in the latest configuration.
func (n *Node) member(id int) (Member, bool) {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return Member{}, false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(strconv.Itoa(id)) {
			m, err := memberFromRaft(s)
			return m, err == nil
		}
	}
	return Member{}, false
}

// Change is a membership change: members to add (or whose address or role
// changes) and ids to remove.
type Change struct {
	Add    []Member
	Remove []int
	// Version, when non-zero, is the membership version (index) the change
	// applies to; a different current version fails with ErrConfigChanged.
	Version uint64
}

// ChangeMembers applies c on the leader, one Raft configuration change at a
// time (AddVoter for participants, AddNonvoter for observers, DemoteVoter for
// a participant that becomes an observer, RemoveServer), and waits until they
// are applied here. It returns the new version. Only the leader changes the
// membership: elsewhere it fails with ErrNotLeader, and the caller forwards
// its request (the server does, with CallLeader).
func (n *Node) ChangeMembers(ctx context.Context, c Change) (uint64, error) {
	if n.cfg.Standalone() {
		return 0, fmt.Errorf("cluster: %w: a standalone server has no membership to change", ErrConfig)
	}
	if !n.State().Leading() {
		return 0, ErrNotLeader
	}
	index, err := n.changeMembersHere(ctx, c)
	if err != nil {
		return 0, err
	}
	if err := n.WaitApplied(ctx, index); err != nil {
		return 0, err
	}
	return index, nil
}

func (n *Node) changeMembersHere(ctx context.Context, c Change) (uint64, error) {
	n.reconfigMu.Lock()
	defer n.reconfigMu.Unlock()
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return 0, raftError(err)
	}
	if c.Version != 0 && c.Version != f.Index() {
		return 0, fmt.Errorf("%w: version %x, not %x", ErrConfigChanged, f.Index(), c.Version)
	}
	current := map[raft.ServerID]raft.Server{}
	for _, s := range f.Configuration().Servers {
		current[s.ID] = s
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	prev := f.Index()
	index := prev
	apply := func(fut raft.IndexFuture) error {
		if err := waitFuture(ctx, fut); err != nil {
			return raftError(err)
		}
		index, prev = fut.Index(), fut.Index()
		return nil
	}
	for _, id := range c.Remove {
		rid := raft.ServerID(strconv.Itoa(id))
		if _, ok := current[rid]; !ok {
			return 0, fmt.Errorf("cluster: %w: server.%d is not a member", ErrConfig, id)
		}
		if err := apply(n.raft.RemoveServer(rid, prev, timeout)); err != nil {
			return 0, err
		}
		delete(current, rid)
	}
	for _, m := range c.Add {
		if m.ID <= 0 {
			return 0, fmt.Errorf("cluster: %w: a member needs a positive id", ErrConfig)
		}
		old, exists := current[m.raftID()]
		var fut raft.IndexFuture
		switch {
		case m.Observer() && exists && old.Suffrage == raft.Voter && old.Address == m.address():
			fut = n.raft.DemoteVoter(m.raftID(), prev, timeout)
		case m.Observer():
			if exists && old.Suffrage == raft.Voter {
				// A new address and a demotion: remove, then add back.
				if err := apply(n.raft.RemoveServer(m.raftID(), prev, timeout)); err != nil {
					return 0, err
				}
			}
			fut = n.raft.AddNonvoter(m.raftID(), m.address(), prev, timeout)
		default:
			fut = n.raft.AddVoter(m.raftID(), m.address(), prev, timeout)
		}
		if err := apply(fut); err != nil {
			return 0, err
		}
	}
	return index, nil
}

// report is what the leader knows of a member from its periodic reports.
type report struct {
	at      time.Time
	applied uint64
}

func (n *Node) recordReport(from int, applied uint64) {
	n.reportMu.Lock()
	defer n.reportMu.Unlock()
	n.reports[from] = report{at: time.Now(), applied: applied}
}

// reportEvery is how often a member tells the leader how far it has applied.
func (n *Node) reportEvery() time.Duration {
	return max(2*n.timing.HeartbeatTimeout, 100*time.Millisecond)
}

// sendReports runs on every member: while following, it reports the applied
// index to the leader.
func (n *Node) sendReports() {
	defer n.wg.Done()
	t := time.NewTicker(n.reportEvery())
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		if fw := n.forwarderNow(); fw != nil {
			ctx, cancel := context.WithTimeout(context.Background(), n.reportEvery())
			_, _ = fw.call(ctx, methodReport, binary.BigEndian.AppendUint64(nil, n.AppliedIndex()))
			cancel()
		}
	}
}

// LeaderStats is what a leader reports about its followers (mntr's
// zk_learners, zk_synced_followers, zk_synced_observers).
type LeaderStats struct {
	// Voters is the number of voting members, this node included (zk_quorum_size).
	Voters int
	// Followers is the number of other voters.
	Followers int
	// Learners counts the other members that follow this leader now: those
	// that reported their progress recently (within three report intervals),
	// as ZooKeeper counts its connected learners.
	Learners int
	// SyncedFollowers and SyncedObservers split Learners into voters and
	// observers.
	SyncedFollowers, SyncedObservers int
}

// LeaderStats returns the follower counts; zero values unless this node leads.
func (n *Node) LeaderStats() LeaderStats {
	var st LeaderStats
	ms, _, err := n.Members()
	if err != nil || n.cfg.Standalone() {
		return st
	}
	for _, m := range ms {
		if !m.Observer() {
			st.Voters++
		}
	}
	if !n.State().Leading() {
		return st
	}
	n.reportMu.Lock()
	defer n.reportMu.Unlock()
	fresh := time.Now().Add(-3 * n.reportEvery())
	for _, m := range ms {
		if m.ID == n.id {
			continue
		}
		if !m.Observer() {
			st.Followers++
		}
		if r, ok := n.reports[m.ID]; ok && r.at.After(fresh) {
			st.Learners++
			if m.Observer() {
				st.SyncedObservers++
			} else {
				st.SyncedFollowers++
			}
		}
	}
	return st
}
