package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Applied is the outcome of a proposal applied on this node.
type Applied struct {
	// Index is the entry's log index.
	Index uint64
	// Response is what the state machine's Apply returned on this node.
	Response interface{}
}

// Proposal is an entry on its way through the log. Wait for its outcome with
// Wait, from any number of goroutines.
//
// A proposal completes when this node applies its entry (every proposal is
// registered with the state machine wrapper under its sequence number, so
// the entry is recognised here whichever leader appended it), or when it is
// known to have failed. When the path to the leader breaks while the entry is
// in flight, the proposal is in doubt rather than failed: once this node is
// ready under a leader of a later term, every entry of earlier terms that
// will ever be applied has been applied here, so an entry still not applied
// never will be, and it is proposed again through the new leader. A client
// therefore rides out a leader change without losing its connection, and the
// entry is applied once. Proposals in doubt for longer than
// Timing.LeaderWait fail with ErrOutcomeUnknown.
type Proposal struct {
	once  sync.Once
	done  chan struct{}
	link  any    // the path the entry first took (see Stream)
	data  []byte // the payload, for proposing again
	index uint64 // forwarded: the index the leader reported; guarded by appliedFSM.mu
	// doubtSince is when its fate first became unknown; guarded by Node.doubtMu.
	doubtSince time.Time

	res Applied
	err error
}

func newProposal(data []byte, link any) *Proposal {
	return &Proposal{done: make(chan struct{}), data: data, link: link}
}

func failedProposal(err error) *Proposal {
	p := newProposal(nil, nil)
	p.complete(Applied{}, err)
	return p
}

// Wait blocks until the entry is applied on this node (or known to have
// failed) and returns its outcome. Errors wrap ErrNoLeader or ErrNotLeader
// (the entry was not appended), ErrOutcomeUnknown (it may have been), or
// ErrStaleTerm and ErrStreamBroken (it was not applied anywhere), or ErrClosed.
func (p *Proposal) Wait() (Applied, error) {
	<-p.done
	return p.res, p.err
}

func (p *Proposal) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// complete finishes a proposal once.
func (p *Proposal) complete(res Applied, err error) {
	p.once.Do(func() {
		p.res, p.err = res, err
		close(p.done)
	})
}

func (p *Proposal) completeWith(index uint64, resp interface{}) {
	res, err := outcome(index, resp)
	p.complete(res, err)
}

func outcome(index uint64, resp interface{}) (Applied, error) {
	if d, ok := resp.(dropped); ok {
		return Applied{}, d.err
	}
	return Applied{Index: index, Response: resp}, nil
}

// raftError maps raft's errors onto the package's.
func raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
}

// Stream is an ordered sequence of proposals, such as the writes of one
// client connection. Its entries are applied in the order proposed, and never
// one without every earlier one: when the path to the leader changes (a new
// leader, a new connection to it, a new term here), Propose first waits for
// the stream's last proposal on the old path (which may be proposed again,
// see Proposal), and after any failure every later proposal fails with
// ErrStreamBroken.
//
// A Stream is used by one proposing goroutine; its proposals may be waited
// for from others.
type Stream struct {
	n      *Node
	last   *Proposal
	broken error
}

// NewStream starts an ordered sequence of proposals.
func (n *Node) NewStream() *Stream { return &Stream{n: n} }

// Propose appends data to the stream. It does not wait for the entry to be
// applied, except at a change of leader (see Stream).
func (s *Stream) Propose(data []byte) *Proposal {
	if s.broken != nil {
		return failedProposal(fmt.Errorf("%w: %w", ErrStreamBroken, s.broken))
	}
	if s.last != nil && s.last.finished() && s.last.err != nil {
		s.broken = s.last.err
		return failedProposal(fmt.Errorf("%w: %w", ErrStreamBroken, s.broken))
	}
	if cur := s.n.awaitLink(); s.last != nil && s.last.link != cur {
		if _, err := s.last.Wait(); err != nil {
			s.broken = err
			return failedProposal(fmt.Errorf("%w: %w", ErrStreamBroken, err))
		}
	}
	p := s.n.Propose(data)
	s.last = p
	return p
}

// Propose appends data to the log without ordering it against other
// proposals. The returned proposal completes when the entry has been applied
// on this node.
func (n *Node) Propose(data []byte) *Proposal {
	select {
	case <-n.done:
		return failedProposal(ErrClosed)
	default:
	}
	if n.raft.State() == raft.Leader {
		term := n.raft.CurrentTerm()
		p := newProposal(data, localLink{term})
		n.appendHere(p, term)
		return p
	}
	fw := n.forwarderNow()
	if fw == nil {
		if n.awaitLink() == nil {
			return failedProposal(ErrNoLeader)
		}
		return n.Propose(data)
	}
	p := newProposal(data, fw)
	fw.propose(p)
	return p
}

// appendHere appends p's entry on this node as leader of term. Raft's
// future says only whether the entry was committed while this node led; it
// is watched in order by watchFutures, and a failure puts p in doubt.
func (n *Node) appendHere(p *Proposal, term uint64) {
	seq := n.seq.Add(1)
	if err := n.fsm.register(seq, p); err != nil {
		p.complete(Applied{}, err)
		return
	}
	env := envelope{kind: kindEntry, node: n.self, incarnation: n.incarnation, seq: seq, term: term, payload: p.data}
	b := env.encode()
	n.observeProposal(len(b))
	f := n.apply(b)
	select {
	case n.futures <- localFuture{p: p, seq: seq, term: term, f: f}:
	case <-n.done:
		n.fsm.abandon(seq, ErrClosed)
	}
}

type localFuture struct {
	p    *Proposal
	seq  uint64
	term uint64
	f    raft.ApplyFuture
}

// watchFutures waits for raft's futures of entries this node appended, in
// order. Success needs nothing (applying the entry completed the proposal);
// a failure means leadership was lost, and the proposal is in doubt.
func (n *Node) watchFutures() {
	defer n.wg.Done()
	for {
		var lf localFuture
		select {
		case lf = <-n.futures:
		case <-n.done:
			return
		}
		err := lf.f.Error()
		switch {
		case err == nil:
		case errors.Is(err, raft.ErrRaftShutdown):
			n.fsm.abandon(lf.seq, ErrClosed)
		default:
			// ErrNotLeader: never appended. Otherwise (leadership lost) it may
			// yet be committed by the next leader.
			n.doubt(lf.p, lf.seq, lf.term, errors.Is(err, raft.ErrNotLeader))
		}
	}
}

// doubtful is a proposal whose entry may or may not be in the log.
type doubtful struct {
	p      *Proposal
	seq    uint64 // the sequence number it is registered under
	term   uint64 // the term it was appended (or forwarded) in
	unsent bool   // certainly not appended: it may be proposed again at once
}

// doubt records that p's entry (sequence seq, proposed in term) may not be
// in the log; the resolver decides, at the next change of leadership or tick.
func (n *Node) doubt(p *Proposal, seq, term uint64, unsent bool) {
	if p.finished() {
		return
	}
	n.doubtMu.Lock()
	if p.doubtSince.IsZero() {
		p.doubtSince = time.Now()
	}
	n.inDoubt = append(n.inDoubt, doubtful{p: p, seq: seq, term: term, unsent: unsent})
	n.doubtMu.Unlock()
}

// resolver settles proposals in doubt (see Proposal) and, after LeaderWait
// without a leader, fails every proposal still waiting.
func (n *Node) resolver() {
	defer n.wg.Done()
	tick := time.NewTicker(max(n.timing.LeaderWait/10, 10*time.Millisecond))
	defer tick.Stop()
	var leaderless time.Time
	for {
		changed := n.Changed()
		st := n.State()
		switch {
		case st.Leader != 0:
			leaderless = time.Time{}
		case leaderless.IsZero():
			leaderless = time.Now()
		case time.Since(leaderless) > n.timing.LeaderWait:
			// Nothing can be confirmed for a while: let the clients go.
			n.fsm.abandonAll(fmt.Errorf("%w: no leader", ErrOutcomeUnknown))
		}
		n.resolve(st)
		select {
		case <-changed:
		case <-tick.C:
		case <-n.done:
			return
		}
	}
}

func (n *Node) resolve(st State) {
	n.doubtMu.Lock()
	list := n.inDoubt
	n.inDoubt = nil
	n.doubtMu.Unlock()
	if len(list) == 0 {
		return
	}
	// Propose again in the order first proposed: a stream's entries keep
	// their order (the stream waits for its last one before going on).
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	// One path for the whole batch: were each to take the path of the
	// moment, a later entry could overtake an earlier one whose path failed.
	path := n.proposalPath()
	var keep []doubtful
	for _, d := range list {
		n.doubtMu.Lock()
		since := d.p.doubtSince
		n.doubtMu.Unlock()
		switch {
		case d.p.finished():
		case st.Ready && (d.unsent || st.Term > d.term) && path != nil:
			n.fsm.forget(d.seq)
			path(d.p)
		case time.Since(since) > n.timing.LeaderWait:
			n.fsm.forget(d.seq)
			d.p.complete(Applied{}, fmt.Errorf("%w: no leader took it within %v", ErrOutcomeUnknown, n.timing.LeaderWait))
		default:
			keep = append(keep, d)
		}
	}
	n.doubtMu.Lock()
	n.inDoubt = append(keep, n.inDoubt...)
	n.doubtMu.Unlock()
}

// proposalPath returns how to send a proposal's entry now: append it here
// as leader, or forward it on the current forwarder; nil without a leader.
func (n *Node) proposalPath() func(*Proposal) {
	if n.raft.State() == raft.Leader {
		term := n.raft.CurrentTerm()
		return func(p *Proposal) { n.appendHere(p, term) }
	}
	if fw := n.forwarderNow(); fw != nil {
		return fw.propose
	}
	return nil
}

// failDoubts fails every proposal in doubt (at shutdown).
func (n *Node) failDoubts(err error) {
	n.doubtMu.Lock()
	list := n.inDoubt
	n.inDoubt = nil
	n.doubtMu.Unlock()
	for _, d := range list {
		d.p.complete(Applied{}, err)
	}
}

// ProposeWait proposes data and waits until it is applied here. A proposal
// that was certainly not appended (ErrNoLeader, ErrNotLeader) is proposed
// again as leadership settles, for up to Timing.LeaderWait; any other failure
// is returned.
func (n *Node) ProposeWait(ctx context.Context, data []byte) (Applied, error) {
	deadline := time.Now().Add(n.timing.LeaderWait)
	for {
		changed := n.Changed()
		res, err := n.Propose(data).Wait()
		if !notAppended(err) || !n.pause(ctx, changed, deadline) {
			return res, err
		}
	}
}

// notAppended reports an error that proves the work never took effect: no
// leader was reached, or the one reached refused it before acting.
func notAppended(err error) bool {
	return errors.Is(err, ErrNoLeader) || errors.Is(err, ErrNotLeader)
}

// pause waits for a change of State (or a short while, as a dead leader is
// noticed only by its silence) before a retry; false once the deadline or
// ctx has passed, or the node shut down.
func (n *Node) pause(ctx context.Context, changed <-chan struct{}, deadline time.Time) bool {
	left := time.Until(deadline)
	if left <= 0 {
		return false
	}
	t := time.NewTimer(min(left, 20*time.Millisecond))
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-ctx.Done():
		return false
	case <-n.done:
		return false
	}
	return ctx.Err() == nil
}

// awaitLink returns the path a proposal would take now, waiting up to
// Timing.LeaderWait for one while no leader is known.
func (n *Node) awaitLink() any {
	deadline := time.Now().Add(n.timing.LeaderWait)
	for {
		changed := n.Changed()
		if l := n.currentLink(); l != nil {
			return l
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		t := time.NewTimer(left)
		select {
		case <-changed:
		case <-t.C:
		case <-n.done:
			t.Stop()
			return nil
		}
		t.Stop()
	}
}

// localLink is the path of entries this node appends itself as leader, in
// one term.
type localLink struct{ term uint64 }

// currentLink names the path a proposal made now would take.
func (n *Node) currentLink() any {
	if n.raft.State() == raft.Leader {
		return localLink{n.raft.CurrentTerm()}
	}
	if fw := n.forwarderNow(); fw != nil {
		return fw
	}
	return nil
}
