package cluster

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// A follower learns that entries are committed from the leader's next
// AppendEntries (see nudge.go for why that is too late). The leader tells
// it sooner in one of two ways: a commit message on the herd connection the
// follower keeps to it (like ZooKeeper's COMMIT), or a nudge entry, which
// costs a log write and an fsync on every node. The message is used when
// every other member is subscribed; the entry only when one is not.
//
// The follower turns a commit message into the AppendEntries the leader
// could have sent: no entries, the committed entry as the previous one (its
// index and term), and that index as the commit index. Raft checks it as it
// checks any: an older term is refused, and a follower whose log does not
// hold that entry with that term refuses it too, so it commits only a
// prefix of its log that matches the leader's; and the leader names only
// entries it has applied, so committed ones. It is injected only while this
// node follows the sender in the message's term, and only once its log
// reaches the index (raft would otherwise log a refusal). Like any
// AppendEntries raft accepts, it counts as contact with the leader.

// followCommits is whether followers subscribe to commit messages; tests
// turn it off to exercise the nudge entries.
var followCommits = true

// commitTransport is raft's network transport with one more source of
// requests: the AppendEntries a follower makes from a commit message. Every
// other method (Close and RequestPreVote among them) is the network
// transport's.
type commitTransport struct {
	*raft.NetworkTransport
	rpcs chan raft.RPC

	// runs, when set, lets AppendEntries answer from followers' answers to
	// batches sent ahead (aheadanswer.go), waiting for them until done
	// closes at the latest.
	runs        *aheadRuns
	done        <-chan struct{}
	handingOver *atomic.Bool                                    // set: send every AppendEntries
	spare       func(raft.ServerID, *raft.AppendEntriesRequest) // told of each one answered so
	spared      atomic.Uint64                                   // AppendEntries answered so
}

func newCommitTransport(nt *raft.NetworkTransport) *commitTransport {
	return &commitTransport{NetworkTransport: nt, rpcs: make(chan raft.RPC)}
}

// Consumer implements raft.Transport: the network's requests and the
// injected ones.
func (t *commitTransport) Consumer() <-chan raft.RPC { return t.rpcs }

// relay passes the network's requests on until done closes.
func (t *commitTransport) relay(done <-chan struct{}) {
	in := t.NetworkTransport.Consumer()
	for {
		select {
		case rpc := <-in:
			select {
			case t.rpcs <- rpc:
			case <-done:
				return
			}
		case <-done:
			return
		}
	}
}

// commitNote is a commit the leader told this follower of.
type commitNote struct {
	leader    int    // who told it
	term      uint64 // the leader's term
	index, at uint64 // the committed entry's index and term
}

// committer holds the latest commit message a follower has not yet given
// raft, and wakes the goroutine that gives it.
type committer struct {
	mu      sync.Mutex
	note    commitNote
	has     bool
	pending atomic.Bool   // has, readable without mu (logStored's fast path)
	stored  atomic.Uint64 // the last index written to the log (logStored)
	wake    chan struct{}
}

func newCommitter() *committer { return &committer{wake: make(chan struct{}, 1)} }

func (c *committer) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// learnCommit records a commit message from leader.
func (n *Node) learnCommit(leader int, term, index, at uint64) {
	c := n.commits
	c.mu.Lock()
	if !c.has || c.note.term != term || c.note.index < index {
		c.note, c.has = commitNote{leader: leader, term: term, index: index, at: at}, true
		c.pending.Store(true)
	}
	c.mu.Unlock()
	c.poke()
}

// logStored is called after each write to the log, last the index of its
// last entry: a commit message may have been waiting for the entries. Raft
// updates its own last index only after the write returns, so the
// committer goes by this one.
func (n *Node) logStored(last uint64) {
	if n.commits == nil {
		return
	}
	n.commits.stored.Store(last)
	if n.commits.pending.Load() {
		n.commits.poke()
	}
	select {
	case n.aheadWake <- struct{}{}:
	default:
	}
}

// runCommits gives raft the commit messages, one request at a time.
func (n *Node) runCommits(t *commitTransport) {
	defer n.wg.Done()
	c := n.commits
	resp := make(chan raft.RPCResponse, 1)
	for {
		select {
		case <-c.wake:
		case <-n.done:
			return
		}
		c.mu.Lock()
		note, has := c.note, c.has
		c.mu.Unlock()
		if !has {
			continue
		}
		switch {
		case !n.followsIn(note.leader, note.term) || n.raft.CommitIndex() >= note.index:
			n.dropNote(note) // stale, or known already
			continue
		case max(n.raft.LastIndex(), c.stored.Load()) < note.index:
			continue // logStored wakes this once the entries are here
		}
		n.dropNote(note)
		addr, id := n.raft.LeaderWithID()
		req := &raft.AppendEntriesRequest{
			RPCHeader: t.leaderHeader(id, addr),
			Term:      note.term, PrevLogEntry: note.index, PrevLogTerm: note.at,
			LeaderCommitIndex: note.index,
		}
		success, answered := n.giveRaft(t, req, resp)
		if !answered {
			return
		}
		n.commitsTried.Add(1)
		if success {
			n.commitsGiven.Add(1)
		}
	}
}

// followsIn reports whether this node follows leader in term now, so that
// an AppendEntries made from that leader's message may be given to raft.
func (n *Node) followsIn(leader int, term uint64) bool {
	_, id := n.raft.LeaderWithID()
	return n.raft.State() == raft.Follower && n.raft.CurrentTerm() == term &&
		id == raft.ServerID(strconv.Itoa(leader))
}

// leaderHeader is the header of an AppendEntries from the leader id at
// addr. This node's raft reads the leader from it (Leader, which raft fills
// in for older versions, is not needed in process).
func (t *commitTransport) leaderHeader(id raft.ServerID, addr raft.ServerAddress) raft.RPCHeader {
	return raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(id), Addr: t.EncodePeer(id, addr)}
}

// giveRaft hands raft an AppendEntries made here and waits for its answer
// on resp: whether raft accepted it, and whether it answered before the
// node closed.
func (n *Node) giveRaft(t *commitTransport, req *raft.AppendEntriesRequest, resp chan raft.RPCResponse) (success, answered bool) {
	select {
	case t.rpcs <- raft.RPC{Command: req, RespChan: resp}:
	case <-n.done:
		return false, false
	}
	select {
	case r := <-resp:
		ae, ok := r.Response.(*raft.AppendEntriesResponse)
		return ok && ae.Success, true
	case <-n.done:
		return false, false
	}
}

// dropNote forgets note unless a later one has replaced it.
func (n *Node) dropNote(note commitNote) {
	c := n.commits
	c.mu.Lock()
	if c.has && c.note == note {
		c.has = false
		c.pending.Store(false)
	}
	c.mu.Unlock()
}

// tellCommit sends the commit of the entry at index (of term at) to every
// subscribed follower, and reports whether every other member is
// subscribed, so that no nudge entry is needed.
func (n *Node) tellCommit(term, index, at uint64) bool {
	f := newFrame(msgCommit).u64(term).u64(index).u64(at).done()
	told := map[int]bool{}
	n.peerMu.Lock()
	for pc := range n.peerConns {
		if pc.follows.Load() && pc.trySend(f) {
			told[pc.peer] = true
			if t := n.toldCommit[pc.peer]; t[0] != term || t[1] < index {
				n.toldCommit[pc.peer] = [2]uint64{term, index}
			}
		}
	}
	n.peerMu.Unlock()
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return false
	}
	for _, s := range cf.Configuration().Servers {
		if s.ID != n.raftID {
			id, err := strconv.Atoi(string(s.ID))
			if err != nil || !told[id] {
				return false
			}
		}
	}
	return true
}

// commitForSpared gives a follower the commit index of an AppendEntries the
// transport answered for it (aheadanswer.go) and so did not send, unless a
// commit message told it of that commit already. runNudges sends no commit
// message when an entry appended after the applied batch will carry the
// commit index; when that entry's AppendEntries is spared, this message
// carries it instead.
func (n *Node) commitForSpared(id raft.ServerID, args *raft.AppendEntriesRequest) {
	index := args.LeaderCommitIndex
	peer, err := strconv.Atoi(string(id))
	if index == 0 || err != nil {
		return
	}
	n.peerMu.Lock()
	defer n.peerMu.Unlock()
	if t := n.toldCommit[peer]; t[0] == args.Term && t[1] >= index {
		return
	}
	var l raft.Log
	if n.logs.GetLog(index, &l) != nil {
		return // compacted: the entry is long committed everywhere
	}
	f := newFrame(msgCommit).u64(args.Term).u64(index).u64(l.Term).done()
	for pc := range n.peerConns {
		if pc.peer == peer && pc.follows.Load() && pc.trySend(f) {
			n.toldCommit[peer] = [2]uint64{args.Term, index}
		}
	}
}
