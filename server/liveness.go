package server

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Session liveness is decided by the leader alone. A follower records which
// of its sessions showed signs of life (any packet, pings included) and sends
// them to the leader in one batch per half tick; the leader refreshes their
// deadlines. A client re-attaching at a follower is validated by the leader,
// which knows whether the session is still alive.

// Methods of the leader's handlers (cluster.Config.Handlers).
const (
	methodTouch      = "touch"
	methodRevalidate = "revalidate"
)

// touches collects the sessions seen alive on a follower since the last batch.
type touches struct {
	mu    sync.Mutex
	ids   map[int64]struct{} // seen since the last batch
	retry map[int64]struct{} // the last batch's own sessions, if it did not reach the leader
}

func (t *touches) add(id int64) {
	t.mu.Lock()
	if t.ids == nil {
		t.ids = map[int64]struct{}{}
	}
	t.ids[id] = struct{}{}
	t.mu.Unlock()
}

// take returns the next batch: the sessions seen since the last one (fresh)
// and those of the last batch, if it failed.
func (t *touches) take() (batch, fresh map[int64]struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fresh, retry := t.ids, t.retry
	t.ids, t.retry = nil, nil
	if len(retry) == 0 {
		return fresh, fresh
	}
	batch = make(map[int64]struct{}, len(fresh)+len(retry))
	for id := range retry {
		batch[id] = struct{}{}
	}
	for id := range fresh {
		batch[id] = struct{}{}
	}
	return batch, fresh
}

// failed records that a batch did not reach the leader: its fresh sessions
// go with the next batch, once. Only once, so that a touch reaches the
// leader at most about a tick late: a late touch extends a session by a
// whole timeout from when it arrives, and a dead client's session (and its
// ephemeral nodes, its locks) would outlive it by as much as it was late.
func (t *touches) failed(fresh map[int64]struct{}) {
	t.mu.Lock()
	t.retry = fresh
	t.mu.Unlock()
}

// touch records that session id showed a sign of life now.
func (s *Server) touch(id int64, now time.Time) {
	if id == 0 {
		return
	}
	if s.leading() {
		s.tracker.Touch(id, now)
		return
	}
	s.touched.add(id)
}

// sendTouches forwards a follower's batch of live sessions to the leader.
func (s *Server) sendTouches(now time.Time) {
	ids, fresh := s.touched.take()
	if len(ids) == 0 {
		return
	}
	if s.leading() {
		// This node became the leader since they were recorded.
		for id := range ids {
			s.tracker.Touch(id, now)
		}
		return
	}
	body := make([]byte, 0, 8*len(ids))
	for id := range ids {
		body = binary.BigEndian.AppendUint64(body, uint64(id))
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.TickTime)
	defer cancel()
	if _, err := s.node.CallLeader(ctx, methodTouch, body); err != nil {
		// The next batch carries them again. Dropping them would wait for
		// each client's next ping, and a client pings only every third of
		// its timeout: a busy leader that misses a batch or two could then
		// expire a session whose client never went quiet. (A new leader
		// refreshes every session anyway.)
		s.touched.failed(fresh)
		s.log.Debug("could not forward session touches; resending them with the next batch", zap.Int("sessions", len(ids)), zap.Error(err))
	}
}

// handleTouch runs on the leader: a follower's sessions are alive.
func (s *Server) handleTouch(from int, body []byte) ([]byte, error) {
	if len(body)%8 != 0 {
		return nil, fmt.Errorf("server: touch batch of %d bytes", len(body))
	}
	now := time.Now()
	for len(body) > 0 {
		s.tracker.Touch(int64(binary.BigEndian.Uint64(body)), now)
		body = body[8:]
	}
	return nil, nil
}

// errSessionInvalid reports a re-attach to a session that is unknown, closed,
// expired or closing, or with the wrong password.
var errSessionInvalid = errors.New("server: session expired")

// revalidate asks the leader whether session id may be re-attached with
// password passwd and the given timeout, and refreshes it if so. The leader
// decides from its own replica and liveness tracker, as in ZooKeeper, not
// this node's: a follower may not yet have applied the session's creation
// (or a node that restarted may not have applied anything). On success this
// node has applied everything the leader had when it answered, so the client
// sees its session, ephemerals and every change up to then.
func (s *Server) revalidate(ctx context.Context, id int64, passwd []byte, timeout time.Duration) error {
	if s.leading() {
		_, err := s.revalidateHere(ctx, id, passwd, timeout)
		return err
	}
	body := binary.BigEndian.AppendUint64(nil, uint64(id))
	body = binary.BigEndian.AppendUint64(body, uint64(timeout))
	body = append(body, passwd...)
	reply, err := s.node.CallLeader(ctx, methodRevalidate, body)
	if err != nil {
		return fmt.Errorf("server: revalidate session: %w", err)
	}
	if len(reply) != 9 || reply[0] != 1 {
		return errSessionInvalid
	}
	if err := s.node.WaitApplied(ctx, binary.BigEndian.Uint64(reply[1:])); err != nil {
		return fmt.Errorf("server: catch up with the leader: %w", err)
	}
	return nil
}

// revalidateHere checks and refreshes a session on the leader; it returns
// the index this node has applied.
func (s *Server) revalidateHere(ctx context.Context, id int64, passwd []byte, timeout time.Duration) (uint64, error) {
	// A follower applies an entry once it learns it is committed, which may
	// be before the leader's own state machine has applied it: a client that
	// saw, at a follower, the ephemerals of a closed session gone must not
	// re-attach that session here (the nemesis did). So the leader decides
	// only once it has applied everything it knows to be committed. And it
	// first confirms that it still leads: a leader thawed after a SIGSTOP
	// longer than an election still believes it leads, while the new leader
	// may have expired the session and deleted its ephemerals
	// (TestNemesisProcesses did).
	if err := s.node.ConfirmLeading(ctx); err != nil {
		return 0, fmt.Errorf("server: revalidate session: confirm leadership and apply the committed entries: %w", err)
	}
	applied := s.node.AppliedIndex()
	ss, ok := s.fsm.Session(id)
	if !ok || subtle.ConstantTimeCompare(ss.Passwd, passwd) != 1 || !s.tracker.Alive(id) {
		return 0, errSessionInvalid
	}
	s.tracker.Add(id, timeout, time.Now())
	return applied, nil
}

// handleRevalidate runs on the leader for a follower's re-attaching client.
// Its reply is 1 and the leader's applied index, or 0.
func (s *Server) handleRevalidate(from int, body []byte) ([]byte, error) {
	if len(body) < 16 {
		return nil, fmt.Errorf("server: revalidate request of %d bytes", len(body))
	}
	id := int64(binary.BigEndian.Uint64(body))
	timeout := time.Duration(binary.BigEndian.Uint64(body[8:]))
	ctx, cancel := context.WithTimeout(context.Background(), max(2*s.cfg.TickTime, time.Second))
	defer cancel()
	applied, err := s.revalidateHere(ctx, id, body[16:], timeout)
	switch {
	case errors.Is(err, errSessionInvalid):
		return []byte{0}, nil
	case err != nil:
		return nil, err // not known: the follower closes the connection, the client tries again
	}
	return binary.BigEndian.AppendUint64([]byte{1}, applied), nil
}
