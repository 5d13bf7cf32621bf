package cluster

import (
	"errors"
	"fmt"
	"sync"

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
type Proposal struct {
	once   sync.Once
	future raft.ApplyFuture // set when this node appended the entry as leader
	done   chan struct{}    // closed when a forwarded proposal completes
	link   any              // the path the entry took (see Stream)
	index  uint64           // forwarded: the index the leader reported; guarded by appliedFSM.mu

	res Applied
	err error
}

func failedProposal(err error) *Proposal {
	p := &Proposal{done: make(chan struct{})}
	p.complete(Applied{}, err)
	return p
}

// Wait blocks until the entry is applied on this node (or known to have
// failed) and returns its outcome. Errors wrap ErrNoLeader or ErrNotLeader
// (the entry was not appended), ErrOutcomeUnknown (it may have been), or
// ErrStaleTerm and ErrStreamBroken (it was not applied anywhere), or ErrClosed.
func (p *Proposal) Wait() (Applied, error) {
	if p.future == nil {
		<-p.done
		return p.res, p.err
	}
	p.once.Do(func() {
		if err := p.future.Error(); err != nil {
			p.err = raftError(err)
			return
		}
		p.res, p.err = outcome(p.future.Index(), p.future.Response())
	})
	return p.res, p.err
}

// complete finishes a forwarded proposal once.
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
// the stream's last proposal on the old path, and after any failure every
// later proposal fails with ErrStreamBroken.
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
	if s.last != nil && s.last.link != s.n.currentLink() {
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
		env := envelope{kind: kindEntry, node: n.self, incarnation: n.incarnation, seq: n.seq.Add(1), term: term, payload: data}
		b := env.encode()
		n.observeProposal(len(b))
		return &Proposal{future: n.raft.Apply(b, 0), link: localLink{term}}
	}
	fw := n.forwarderNow()
	if fw == nil {
		return failedProposal(ErrNoLeader)
	}
	return fw.propose(data)
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
