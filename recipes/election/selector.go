package election

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/contend"
	"github.com/herd-io/herd/recipes/lock"
)

// Selector is Curator's LeaderSelector: an exclusive lock whose holder is
// the leader, with the participant's id as node data. Run calls lead each
// time this participant becomes leader; leadership lasts until lead returns,
// and lead's context is cancelled the moment leadership can no longer be
// trusted.
//
// Layout (Curator's InterProcessMutex, so Go selectors, Curator
// LeaderSelectors and Go Mutexes on the path all contend together):
//
//	<path>/                                  container
//	  _c_<uuid>-lock-0000000011              EPHEMERAL_SEQUENTIAL, data = id: the leader
//	  _c_<uuid>-lock-0000000012              a participant, watching ...11 only
//
// Connection states:
//   - SUSPENDED: once it lasts longer than the grace (WithGrace; default 0,
//     at once), lead's ctx is cancelled; when lead returns, the node is
//     deleted (or, while the server is unreachable, left to the client's
//     guaranteed delete) so another participant can lead.
//   - RECONNECTED: a participant that is waiting goes on waiting; a term
//     that was cancelled is over, and with AutoRequeue the participant
//     joins again at the back.
//   - LOST: as SUSPENDED for the leader (if its ctx was not cancelled
//     already); a waiting participant joins again with a new node.
//
// Two lead functions of the election never run at once as long as lead
// returns promptly when its ctx is cancelled and the grace, plus the time
// lead takes to return, stays under a third of the session timeout: a
// partitioned client notices the silence after two thirds of the timeout
// (go-zookeeper's read timeout), the server expires the session only after
// all of it. A lead that ignores its ctx can outlive its leadership, as in
// Curator; fence its side effects with Token or Node.
type Selector struct {
	path string
	id   string
	cfg  config
	err  error
	m    *lock.Mutex
	k    contend.Contender

	mu      sync.Mutex
	leading bool
}

// NewSelector returns a selector for participant id on path. A nil client
// or an invalid path is reported by Run, Leader and Participants.
func NewSelector(c *framework.Client, path, id string, opts ...Option) *Selector {
	s := &Selector{path: path, id: id, cfg: newConfig(opts)}
	s.err = checkArgs(c, path)
	s.m = lock.NewMutex(c, path, lock.WithData([]byte(id)), lock.WithGrace(s.cfg.grace))
	s.k = contend.Contender{Client: c, Dir: path, Name: "lock-"}
	return s
}

// Run takes part in the election until lead has run once (or, with
// AutoRequeue, until ctx ends): it waits to become leader, calls lead with a
// context that is cancelled when leadership is lost or ctx ends, and gives
// leadership up when lead returns. It returns lead's error; ErrLeadershipLost
// if leadership was lost and lead returned nil or its context's error; or
// ctx's error. With AutoRequeue it returns only when ctx ends or the client
// closes, and logs lead's errors (WithLogger).
//
// Calls of Run on one Selector value take turns, as Lock on a Mutex does.
func (s *Selector) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	if s.err != nil {
		return s.err
	}
	if lead == nil {
		return fmt.Errorf("election %s: %w: nil lead function", s.path, ErrInvalidArgument)
	}
	for {
		if err := s.m.Lock(ctx); err != nil {
			return fmt.Errorf("election %s: %w", s.path, err)
		}
		err := s.term(ctx, lead)
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("election %s: %w", s.path, ctx.Err())
		case !s.cfg.requeue:
			return err
		case err != nil && !errors.Is(err, ErrLeadershipLost):
			s.cfg.log.Warn("leader selector: lead returned an error; requeueing", zap.String("path", s.path), zap.String("id", s.id), zap.Error(err))
		}
	}
}

// term is one leadership: lead runs with a ctx tied to the hold's Lost.
func (s *Selector) term(ctx context.Context, lead func(context.Context) error) error {
	leadCtx, cancel := context.WithCancel(ctx)
	lost := s.m.Lost()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-lost:
			cancel()
		case <-leadCtx.Done():
		}
	}()
	s.setLeading(true)
	err := lead(leadCtx)
	wasLost := isClosed(lost)
	s.setLeading(false)
	cancel()
	wg.Wait()
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), contend.CleanupTimeout)
	uerr := s.m.Unlock(cctx)
	ccancel()
	if uerr != nil {
		s.cfg.log.Warn("leader selector: release", zap.String("path", s.path), zap.Error(uerr))
	}
	if wasLost && ctx.Err() == nil && (err == nil || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("election %s: %w", s.path, ErrLeadershipLost)
	}
	return err
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (s *Selector) setLeading(v bool) {
	s.mu.Lock()
	s.leading = v
	s.mu.Unlock()
}

// HasLeadership reports whether a lead function of this selector is running
// with its leadership still trusted.
func (s *Selector) HasLeadership() bool {
	s.mu.Lock()
	leading := s.leading
	s.mu.Unlock()
	return leading && s.m.Held()
}

// Token is the fencing token of the current term (its lock node's creation
// zxid, growing with every term of the election), 0 when not leading.
func (s *Selector) Token() int64 { return s.m.Token() }

// Node is the path of the current term's node, "" when not leading. A
// leader's writes can be fenced by a transaction that checks it
// (framework.Txn.Check(node, -1)): once the term is over the node is gone
// and the transaction fails.
func (s *Selector) Node() string { return s.m.Node() }

// ID is this participant's id.
func (s *Selector) ID() string { return s.id }

// Leader returns the id of the current leader (the first participant in
// election order), or ErrNoLeader.
func (s *Selector) Leader(ctx context.Context) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	return leader(ctx, &s.k)
}

// Participants returns every participant in election order.
func (s *Selector) Participants(ctx context.Context) ([]Participant, error) {
	if s.err != nil {
		return nil, s.err
	}
	return participants(ctx, &s.k)
}
