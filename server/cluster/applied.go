package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Every entry a Node proposes travels in an envelope that says who proposed
// it (node id, a random incarnation and a sequence number) and in which
// leader term. The envelope lets a follower recognise its own forwarded
// entries when it applies them (and so answer its client with the result its
// own replica computed) and lets every replica ignore an entry that was
// appended in another term than it was proposed in.
//
// Entries written before envelopes existed (a standalone node's older log)
// start with the state machine's own version word, never with envelopeMagic,
// and pass through unchanged.
const (
	envelopeMagic = 0xC7
	kindEntry     = 1 // carries a state-machine entry
	kindMarker    = 2 // a new leader's first entry; the state machine never sees it
	kindNudge     = 3 // carries the commit index to followers (nudgeCommit); never seen either
)

type envelope struct {
	kind        byte
	node        uint64
	incarnation uint64
	seq         uint64
	term        uint64
	payload     []byte
}

func (e envelope) encode() []byte {
	b := make([]byte, 0, 2+4*binary.MaxVarintLen64+len(e.payload))
	b = append(b, envelopeMagic, e.kind)
	b = binary.AppendUvarint(b, e.node)
	b = binary.BigEndian.AppendUint64(b, e.incarnation)
	b = binary.AppendUvarint(b, e.seq)
	b = binary.AppendUvarint(b, e.term)
	return append(b, e.payload...)
}

// decodeEnvelope returns ok=false for an entry without an envelope, and
// errMalformedEnvelope for a damaged one.
func decodeEnvelope(b []byte) (e envelope, ok bool, err error) {
	if len(b) < 2 || b[0] != envelopeMagic {
		return envelope{}, false, nil
	}
	e.kind = b[1]
	rest := b[2:]
	var n int
	if e.node, n = binary.Uvarint(rest); n <= 0 {
		return envelope{}, true, errMalformedEnvelope
	}
	rest = rest[n:]
	if len(rest) < 8 {
		return envelope{}, true, errMalformedEnvelope
	}
	e.incarnation, rest = binary.BigEndian.Uint64(rest), rest[8:]
	if e.seq, n = binary.Uvarint(rest); n <= 0 {
		return envelope{}, true, errMalformedEnvelope
	}
	rest = rest[n:]
	if e.term, n = binary.Uvarint(rest); n <= 0 {
		return envelope{}, true, errMalformedEnvelope
	}
	e.payload = rest[n:]
	if e.kind != kindEntry && e.kind != kindMarker && e.kind != kindNudge {
		return envelope{}, true, errMalformedEnvelope
	}
	return e, true, nil
}

var errMalformedEnvelope = errors.New("cluster: malformed entry envelope")

// dropped is the result of an entry every replica ignored.
type dropped struct{ err error }

// appliedFSM wraps the server's state machine. It strips envelopes, tracks
// the index of the last entry applied here (for WaitApplied and Sync), and
// hands this node's forwarded proposals their results.
type appliedFSM struct {
	inner       raft.FSM
	batch       raft.BatchingFSM // inner, if it applies batches
	self        uint64
	incarnation uint64
	faults      *Faults                  // a test may stall applies
	stop        chan struct{}            // the node's done channel
	afterApply  func(index, term uint64) // called after each batch with its last entry; nil for none (see nudgeCommit)

	observeSnapshot func(time.Duration) // Config.Observers.Snapshot, or nil
	lastSnapshot    atomic.Int64        // how long the last snapshot took to write

	mu      sync.Mutex
	applied uint64
	real    uint64        // the last applied index that is not a nudge (see realIndex)
	changed chan struct{} // closed and replaced whenever applied advances
	waiting map[uint64]*Proposal
	closed  bool
}

func newAppliedFSM(inner raft.FSM, self, incarnation uint64) *appliedFSM {
	f := &appliedFSM{inner: inner, self: self, incarnation: incarnation,
		changed: make(chan struct{}), waiting: map[uint64]*Proposal{}}
	f.batch, _ = inner.(raft.BatchingFSM)
	return f
}

// Apply implements raft.FSM. Raft calls ApplyBatch instead, as appliedFSM is
// a BatchingFSM; Apply exists for the interface.
func (f *appliedFSM) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch implements raft.BatchingFSM.
func (f *appliedFSM) ApplyBatch(logs []*raft.Log) []interface{} {
	f.faults.waitApply(f.stop)
	out := make([]interface{}, len(logs))
	envs := make([]envelope, len(logs))
	toInner := make([]*raft.Log, 0, len(logs))
	pos := make([]int, 0, len(logs))
	stripped := make([]raft.Log, 0, len(logs)) // entries without envelopes, in one allocation
	onlyNudges := true                         // a batch of nudges alone asks for no further nudge
	var real uint64
	for i, l := range logs {
		switch l.Type {
		case raft.LogCommand:
			env, ok, err := decodeEnvelope(l.Data)
			if !ok || err != nil || env.kind != kindNudge {
				onlyNudges, real = false, l.Index
			}
			switch {
			case !ok:
				toInner, pos = append(toInner, l), append(pos, i)
				continue
			case err != nil:
				out[i] = dropped{err}
				continue
			}
			envs[i] = env
			if env.term != l.Term {
				out[i] = dropped{ErrStaleTerm}
				continue
			}
			if env.kind == kindMarker || env.kind == kindNudge {
				continue
			}
			stripped = append(stripped, *l)
			c := &stripped[len(stripped)-1]
			c.Data = env.payload
			toInner, pos = append(toInner, c), append(pos, i)
		case raft.LogConfiguration:
			onlyNudges, real = false, l.Index
			// Only a batching state machine is shown configurations; a plain
			// raft.FSM never sees them, as with raft itself.
			if f.batch != nil {
				toInner, pos = append(toInner, l), append(pos, i)
			}
		}
	}
	if len(toInner) > 0 {
		var res []interface{}
		if f.batch != nil {
			res = f.batch.ApplyBatch(toInner)
		} else {
			res = make([]interface{}, len(toInner))
			for j, l := range toInner {
				if l.Type == raft.LogCommand {
					res[j] = f.inner.Apply(l)
				}
			}
		}
		for j, i := range pos {
			out[i] = res[j]
		}
	}

	type delivery struct {
		p     *Proposal
		index uint64
		res   interface{}
	}
	var ready []delivery
	f.mu.Lock()
	if last := logs[len(logs)-1].Index; last > f.applied {
		f.applied = last
	}
	if real > f.real {
		f.real = real
	}
	for i, env := range envs {
		if env.node != f.self || env.incarnation != f.incarnation || env.kind != kindEntry {
			continue
		}
		if p := f.waiting[env.seq]; p != nil {
			delete(f.waiting, env.seq)
			ready = append(ready, delivery{p, logs[i].Index, out[i]})
		}
	}
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	for _, d := range ready {
		d.p.completeWith(d.index, d.res)
	}
	if f.afterApply != nil && !onlyNudges {
		last := logs[len(logs)-1]
		f.afterApply(last.Index, last.Term)
	}
	return out
}

// register makes p wait for the local apply of this node's entry seq.
func (f *appliedFSM) register(seq uint64, p *Proposal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	f.waiting[seq] = p
	return nil
}

// placed records that the leader appended entry seq at index. If this
// replica is already past index without having applied the entry (it came
// inside a snapshot), its result is unknown here.
func (f *appliedFSM) placed(seq, index uint64) {
	f.mu.Lock()
	p := f.waiting[seq]
	if p == nil {
		f.mu.Unlock()
		return
	}
	p.index = index
	if f.applied < index {
		f.mu.Unlock()
		return
	}
	delete(f.waiting, seq)
	f.mu.Unlock()
	p.complete(Applied{}, fmt.Errorf("%w: entry %d arrived in a snapshot", ErrOutcomeUnknown, index))
}

// forget stops waiting for entry seq without completing its proposal.
func (f *appliedFSM) forget(seq uint64) {
	f.mu.Lock()
	delete(f.waiting, seq)
	f.mu.Unlock()
}

// abandon fails proposal seq with err if it is still waiting.
func (f *appliedFSM) abandon(seq uint64, err error) {
	f.mu.Lock()
	p := f.waiting[seq]
	delete(f.waiting, seq)
	f.mu.Unlock()
	if p != nil {
		p.complete(Applied{}, err)
	}
}

// abandonAll fails every waiting proposal with err.
func (f *appliedFSM) abandonAll(err error) {
	f.mu.Lock()
	waiting := f.waiting
	f.waiting = map[uint64]*Proposal{}
	f.mu.Unlock()
	for _, p := range waiting {
		p.complete(Applied{}, err)
	}
}

// close fails every waiting proposal; later registrations fail too.
func (f *appliedFSM) close() {
	f.mu.Lock()
	f.closed = true
	waiting := f.waiting
	f.waiting = map[uint64]*Proposal{}
	f.mu.Unlock()
	for _, p := range waiting {
		p.complete(Applied{}, ErrClosed)
	}
}

// appliedIndex returns the index of the last entry applied here.
func (f *appliedFSM) appliedIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied
}

// realIndex returns the index of the last entry applied here that is not a
// nudge. A nudge's own commit reaches followers only with a later entry, so
// a leader reports this, not its commit index, as what a follower must
// apply to be current: the nudge after it is what tells them.
func (f *appliedFSM) realIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.real
}

// waitApplied blocks until index is applied here, ctx ends or stop closes.
func (f *appliedFSM) waitApplied(ctx context.Context, index uint64, stop <-chan struct{}) error {
	for {
		f.mu.Lock()
		applied, ch := f.applied, f.changed
		f.mu.Unlock()
		if applied >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for index %d (applied %d): %w", index, applied, ctx.Err())
		case <-stop:
			return ErrClosed
		}
	}
}

// snapshotMagic starts every snapshot appliedFSM writes: the index it covers,
// then the state machine's own bytes. Snapshots without it are restored as
// the state machine's alone.
var snapshotMagic = [8]byte{'H', 'E', 'R', 'D', 'I', 'D', 'X', '1'}

// Snapshot implements raft.FSM. Raft calls it between applies, so the index
// read here is the one the state machine's snapshot covers.
func (f *appliedFSM) Snapshot() (raft.FSMSnapshot, error) {
	index := f.appliedIndex()
	s, err := f.inner.Snapshot()
	if err != nil {
		return nil, err
	}
	return indexedSnapshot{index: index, inner: s, fsm: f}, nil
}

// Restore implements raft.FSM.
func (f *appliedFSM) Restore(rc io.ReadCloser) error {
	br := bufio.NewReaderSize(rc, 64<<10)
	head, err := br.Peek(16)
	var index uint64
	known := err == nil && bytes.Equal(head[:8], snapshotMagic[:])
	if known {
		index = binary.BigEndian.Uint64(head[8:16])
		_, _ = br.Discard(16)
	}
	if err := f.inner.Restore(readCloser{br, rc}); err != nil {
		return err
	}
	f.mu.Lock()
	if known {
		f.applied, f.real = index, index
	}
	var lost []*Proposal
	for seq, p := range f.waiting {
		if p.index != 0 && p.index <= f.applied {
			delete(f.waiting, seq)
			lost = append(lost, p)
		}
	}
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	for _, p := range lost {
		p.complete(Applied{}, fmt.Errorf("%w: entry %d arrived in a snapshot", ErrOutcomeUnknown, p.index))
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type indexedSnapshot struct {
	index uint64
	inner raft.FSMSnapshot
	fsm   *appliedFSM
}

func (s indexedSnapshot) Persist(sink raft.SnapshotSink) error {
	var head [16]byte
	copy(head[:8], snapshotMagic[:])
	binary.BigEndian.PutUint64(head[8:], s.index)
	if _, err := sink.Write(head[:]); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("cluster: write snapshot header: %w", err)
	}
	start := time.Now()
	err := s.inner.Persist(sink)
	if err == nil {
		d := time.Since(start)
		s.fsm.lastSnapshot.Store(int64(d))
		if s.fsm.observeSnapshot != nil {
			s.fsm.observeSnapshot(d)
		}
	}
	return err
}

func (s indexedSnapshot) Release() { s.inner.Release() }
