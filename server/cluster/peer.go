package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// Built-in methods of herd's peer calls; handlers the server registers in
// Config.Handlers use other names.
const (
	methodHello  = "cluster.hello"  // any member: its state, for bootstrap (bootstrap.go)
	methodSync   = "cluster.sync"   // leader: commit index after confirming leadership
	methodReport = "cluster.report" // leader: a follower's applied index, for srvr/mntr
	methodFollow = "cluster.follow" // leader: send commit messages on this connection (commit.go)
	// leader: send entries ahead of its log write on this connection (presend.go)
	methodFollowEntries = "cluster.follow-entries"
)

// serveHerd answers one peer's herd connection: proposals it forwards (when
// this node leads) and calls.
func (n *Node) serveHerd(c net.Conn, peer int) {
	pc := n.newPeerConn(c, peer)
	if !n.trackPeerConn(pc) {
		return
	}
	defer n.untrackPeerConn(pc)
	defer pc.close()

	// Outcomes go back in proposal order, from one goroutine, as raft
	// resolves futures in log order anyway.
	type outcome struct {
		seq uint64
		f   raft.ApplyFuture
		err error
	}
	outcomes := make(chan outcome, 4096)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for o := range outcomes {
			var index uint64
			err := o.err
			if err == nil {
				if err = o.f.Error(); err == nil {
					index = o.f.Index()
					if d, ok := o.f.Response().(dropped); ok {
						err = d.err
					}
				} else {
					err = raftError(err)
				}
			}
			status, text := statusOf(err)
			pc.send(newFrame(msgPlaced).u64(o.seq).u64(index).u8(status).str(text).done())
		}
	}()
	defer close(outcomes)

	// A follower stamps each proposal with the term in which it follows this
	// leader; the entry is appended only in that term (the state machine
	// wrapper ignores it in any other), so the follower knows which term
	// decides its fate. After any refusal the follower must reconnect, so
	// that no later entry of its stream is appended without an earlier one.
	refused := false
	for {
		typ, body, err := pc.read()
		if err != nil {
			return
		}
		r := reader{b: body}
		switch typ {
		case msgPropose:
			seq, inc, term := r.u64(), r.u64(), r.u64()
			data := r.b
			if r.err != nil {
				return
			}
			if !refused && (!n.started.Load() || n.raft.State() != raft.Leader || n.raft.CurrentTerm() != term) {
				refused = true
			}
			if refused {
				outcomes <- outcome{seq: seq, err: ErrNotLeader}
				continue
			}
			env := envelope{kind: kindEntry, node: uint64(peer), incarnation: inc, seq: seq, term: term, payload: data}
			b := env.encode()
			n.observeProposal(len(b))
			outcomes <- outcome{seq: seq, f: n.apply(b)}
		case msgCall:
			id, method, arg := r.u64(), r.str(), r.bytes()
			if r.err != nil {
				return
			}
			if method == methodFollow || method == methodFollowEntries {
				answers := method == methodFollowEntries && n.aheadRuns != nil && bytes.Equal(arg, takesAnswers)
				var reply []byte
				if answers {
					reply = takesAnswers
				}
				pc.send(newFrame(msgReply).u64(id).u8(statusOK).str("").bytes(reply).done())
				// After the reply: the peer answers only batches that
				// follow it, so none recorded here goes unanswered.
				if answers {
					pc.answers.Store(true)
				}
				if method == methodFollow {
					pc.follows.Store(true)
				} else {
					pc.wantsEntries.Store(true)
				}
				continue
			}
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				reply, err := n.answer(peer, method, arg)
				status, text := statusOf(err)
				pc.send(newFrame(msgReply).u64(id).u8(status).str(text).bytes(reply).done())
			}()
		case msgStored:
			term, last, stored := r.u64(), r.u64(), r.u8()
			if r.err != nil || !pc.answers.Load() {
				return
			}
			if n.aheadRuns != nil {
				n.aheadRuns.answered(raft.ServerID(strconv.Itoa(peer)), term, last, stored == 1)
			}
		default:
			n.log.Debug("unexpected peer message", zap.Int("peer", peer), zap.Uint8("type", typ))
			return
		}
	}
}

// answer runs a call a peer made.
func (n *Node) answer(from int, method string, body []byte) ([]byte, error) {
	if method == methodHello {
		return n.hello(), nil
	}
	if !n.started.Load() || !n.State().Leading() {
		return nil, ErrNotLeader
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch method {
	case methodSync:
		index, err := n.leaderCommitIndex(ctx)
		return binary.BigEndian.AppendUint64(nil, index), err
	case methodReport:
		if len(body) == 8 {
			n.recordReport(from, binary.BigEndian.Uint64(body))
		}
		return nil, nil
	}
	h := n.cfg.Handlers[method]
	if h == nil {
		return nil, fmt.Errorf("cluster: no handler for %q", method)
	}
	return h(from, body)
}

func (n *Node) trackPeerConn(pc *peerConn) bool {
	n.peerMu.Lock()
	defer n.peerMu.Unlock()
	if n.peerClosed {
		pc.close()
		return false
	}
	n.peerConns[pc] = struct{}{}
	return true
}

func (n *Node) untrackPeerConn(pc *peerConn) {
	n.peerMu.Lock()
	delete(n.peerConns, pc)
	n.peerMu.Unlock()
	if n.aheadRuns != nil && pc.answers.Load() {
		// Answers in flight on it are lost: waiting for them would only
		// delay raft's own AppendEntries.
		n.aheadRuns.forget(raft.ServerID(strconv.Itoa(pc.peer)))
	}
}

// forwarder carries this node's proposals and calls to the leader over one
// herd connection. It dies at the first failure (and at a change of leader);
// the next proposal opens a new one, so a Stream sees a new link. Proposals
// it had not had placed when it died are put in doubt (see Proposal).
type forwarder struct {
	n      *Node
	leader int
	term   uint64 // this node's term when it began following leader
	addr   string

	out   chan []byte
	ready chan struct{} // closed once connected (or dead)
	dead  chan struct{}
	pc    *peerConn
	// answers: the leader takes answers to the batches it sends ahead
	// (aheadanswer.go).
	answers atomic.Bool

	mu     sync.Mutex
	err    error
	seqs   map[uint64]*Proposal // proposed, not yet placed
	calls  map[uint64]chan call // awaiting a reply
	callID uint64
}

type call struct {
	body []byte
	err  error
}

// forwarderNow returns the connection to the leader that proposals and calls
// take now, opening one if needed; nil when no leader is known or this node
// leads.
func (n *Node) forwarderNow() *forwarder {
	if n.cfg.Standalone() {
		return nil
	}
	return n.forwarderTo(n.State().Leader)
}

// forwarderTo returns the connection to leader, opening one if needed (and
// closing one to any other); nil for no leader or this node.
func (n *Node) forwarderTo(leader int) *forwarder {
	if leader == 0 || leader == n.id {
		return nil
	}
	n.fwMu.Lock()
	defer n.fwMu.Unlock()
	if fw := n.fw; fw != nil {
		if fw.leader == leader && !fw.isDead() {
			return fw
		}
		fw.kill(fmt.Errorf("%w: leader changed", ErrOutcomeUnknown), false)
		n.fw = nil
	}
	m, ok := n.member(leader)
	if !ok {
		return nil
	}
	// Raft's term, not State's (refreshed every few milliseconds): the leader
	// refuses entries stamped with any term but its own.
	fw := &forwarder{n: n, leader: leader, term: n.raft.CurrentTerm(), addr: m.electionDialAddr(),
		out: make(chan []byte, 4096), ready: make(chan struct{}), dead: make(chan struct{}),
		seqs: map[uint64]*Proposal{}, calls: map[uint64]chan call{}}
	n.fw = fw
	n.wg.Add(1)
	go fw.run()
	return fw
}

// dropForwarder kills the forwarder, if any, with err.
func (n *Node) dropForwarder(err error) {
	n.fwMu.Lock()
	fw := n.fw
	n.fw = nil
	n.fwMu.Unlock()
	if fw != nil {
		fw.kill(err, false)
	}
}

func (fw *forwarder) isDead() bool {
	select {
	case <-fw.dead:
		return true
	default:
		return false
	}
}

// run connects, then writes queued frames and reads the leader's answers.
func (fw *forwarder) run() {
	defer fw.n.wg.Done()
	timeout := max(2*fw.n.timing.HeartbeatTimeout, 500*time.Millisecond)
	c, peer, err := fw.n.dialPeer(fw.addr, channelHerd, timeout)
	if err == nil && peer != fw.leader {
		c.Close()
		err = fmt.Errorf("cluster: %s answered as server %d, not %d", fw.addr, peer, fw.leader)
	}
	if err != nil {
		// Nothing was sent: every proposal may be proposed again.
		fw.kill(fmt.Errorf("%w: connect to leader %d: %w", ErrNoLeader, fw.leader, err), true)
		close(fw.ready)
		return
	}
	pc := fw.n.newPeerConn(c, peer)
	fw.mu.Lock()
	fw.pc = pc
	dead := fw.err != nil
	fw.mu.Unlock()
	close(fw.ready)
	if dead {
		pc.close()
		return
	}
	// Commit messages tell this follower at once what its clients wait for
	// (commit.go). The call's id is 0, which no other call has, and its
	// reply is ignored: a leader that does not know the method answers with
	// an error and keeps the connection, and this node learns commits from
	// nudge entries then.
	if followCommits {
		pc.send(newFrame(msgCall).u64(0).str(methodFollow).bytes(nil).done())
	}
	if sendAhead {
		var offer []byte
		if answerAhead && followCommits {
			// A follower that answers must learn commits from commit
			// messages: the AppendEntries its answers spare would have
			// carried the commit index.
			offer = takesAnswers
		}
		pc.send(newFrame(msgCall).u64(followEntriesCall).str(methodFollowEntries).bytes(offer).done())
	}
	fw.n.wg.Add(1)
	go func() {
		defer fw.n.wg.Done()
		for {
			select {
			case f := <-fw.out:
				if !pc.send(f) {
					return
				}
			case <-fw.dead:
				return
			}
		}
	}()
	for {
		typ, body, err := pc.read()
		if err != nil {
			fw.kill(fmt.Errorf("%w: connection to leader %d: %w", ErrOutcomeUnknown, fw.leader, err), false)
			return
		}
		r := reader{b: body}
		switch typ {
		case msgPlaced:
			seq, index, status, text := r.u64(), r.u64(), r.u8(), r.str()
			if r.err != nil {
				fw.kill(fmt.Errorf("%w: bad message from leader", ErrOutcomeUnknown), false)
				return
			}
			fw.mu.Lock()
			p := fw.seqs[seq]
			delete(fw.seqs, seq)
			fw.mu.Unlock()
			switch err := errorOf(status, text); {
			case err == nil:
				fw.n.fsm.placed(seq, index)
			case status == statusNotLeader:
				// The leader refuses this and (it refuses a connection's
				// proposals from its first refusal on) every later one; the
				// earlier ones were placed already, in order.
				if p != nil {
					fw.n.doubt(p, seq, fw.term, true)
				}
				fw.kill(fmt.Errorf("%w: leader refused an entry: %w", ErrNotLeader, err), true)
				return
			case status == statusUnknown:
				if p != nil {
					fw.n.doubt(p, seq, fw.term, false)
				}
				fw.kill(fmt.Errorf("%w: leader lost an entry: %w", ErrOutcomeUnknown, err), false)
				return
			default:
				fw.n.fsm.abandon(seq, err)
				// Nothing later on this connection may apply without it.
				fw.kill(fmt.Errorf("%w: leader failed an entry: %w", ErrOutcomeUnknown, err), false)
				return
			}
		case msgCommit:
			term, index, at := r.u64(), r.u64(), r.u64()
			if r.err != nil {
				fw.kill(fmt.Errorf("%w: bad message from leader", ErrOutcomeUnknown), false)
				return
			}
			fw.n.learnCommit(fw.leader, term, index, at)
		case msgEntries:
			b, ok := decodeAhead(fw.leader, body)
			if !ok {
				fw.kill(fmt.Errorf("%w: bad message from leader", ErrOutcomeUnknown), false)
				return
			}
			b.fw = fw
			fw.n.learnAhead(b)
		case msgReply:
			id, status, text, reply := r.u64(), r.u8(), r.str(), r.bytes()
			if r.err != nil {
				fw.kill(fmt.Errorf("%w: bad message from leader", ErrOutcomeUnknown), false)
				return
			}
			if id == followEntriesCall {
				// A leader that predates answers replies with nothing.
				fw.answers.Store(status == statusOK && bytes.Equal(reply, takesAnswers))
				continue
			}
			fw.mu.Lock()
			ch := fw.calls[id]
			delete(fw.calls, id)
			fw.mu.Unlock()
			if ch != nil {
				ch <- call{body: reply, err: errorOf(status, text)}
			}
		default:
			fw.kill(fmt.Errorf("%w: unexpected message %d from leader", ErrOutcomeUnknown, typ), false)
			return
		}
	}
}

// kill ends the forwarder. Calls fail with err; proposals not yet placed are
// put in doubt, as unsent if the leader certainly did not append them.
func (fw *forwarder) kill(err error, unsent bool) {
	fw.mu.Lock()
	if fw.err != nil {
		fw.mu.Unlock()
		return
	}
	fw.err = err
	seqs, calls, pc := fw.seqs, fw.calls, fw.pc
	fw.seqs, fw.calls = nil, nil
	close(fw.dead)
	fw.mu.Unlock()
	if pc != nil {
		pc.close()
	}
	for seq, p := range seqs {
		fw.n.doubt(p, seq, fw.term, unsent)
	}
	for _, ch := range calls {
		ch <- call{err: err}
	}
}

// propose forwards p's entry; p completes when this node applies it.
func (fw *forwarder) propose(p *Proposal) {
	n := fw.n
	seq := n.seq.Add(1)
	if err := n.fsm.register(seq, p); err != nil {
		p.complete(Applied{}, err)
		return
	}
	fw.mu.Lock()
	if fw.err != nil {
		fw.mu.Unlock()
		n.doubt(p, seq, fw.term, true)
		return
	}
	fw.seqs[seq] = p
	fw.mu.Unlock()
	f := newFrame(msgPropose).u64(seq).u64(n.incarnation).u64(fw.term)
	f = append(f, p.data...)
	select {
	case fw.out <- frame(f).done():
	case <-fw.dead:
		// kill put it in doubt.
	}
}

// call runs method on the leader.
func (fw *forwarder) call(ctx context.Context, method string, body []byte) ([]byte, error) {
	ch := make(chan call, 1)
	fw.mu.Lock()
	if fw.err != nil {
		err := fw.err
		fw.mu.Unlock()
		return nil, err
	}
	fw.callID++
	id := fw.callID
	fw.calls[id] = ch
	fw.mu.Unlock()
	select {
	case fw.out <- newFrame(msgCall).u64(id).str(method).bytes(body).done():
	case <-fw.dead:
	case <-ctx.Done():
		fw.forget(id)
		return nil, ctx.Err()
	}
	select {
	case c := <-ch:
		return c.body, c.err
	case <-ctx.Done():
		fw.forget(id)
		return nil, ctx.Err()
	}
}

func (fw *forwarder) forget(id uint64) {
	fw.mu.Lock()
	if fw.calls != nil {
		delete(fw.calls, id)
	}
	fw.mu.Unlock()
}

// callMember runs method on member m over a connection of its own, for
// calls that are not for the leader (bootstrap's hello).
func (n *Node) callMember(ctx context.Context, m Member, method string, body []byte) ([]byte, error) {
	timeout := time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	c, _, err := n.dialPeer(m.electionDialAddr(), channelHerd, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(newFrame(msgCall).u64(1).str(method).bytes(body).done()); err != nil {
		return nil, err
	}
	pc := &peerConn{c: c, br: newBufReader(c)}
	typ, reply, err := pc.read()
	if err != nil {
		return nil, err
	}
	r := reader{b: reply}
	if typ != msgReply {
		return nil, errors.New("cluster: unexpected answer to a call")
	}
	_, status, text, out := r.u64(), r.u8(), r.str(), r.bytes()
	if r.err != nil {
		return nil, r.err
	}
	return out, errorOf(status, text)
}
