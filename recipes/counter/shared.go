package counter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/listen"
)

// VersionedValue is a count with the node version it was read at, for
// TrySetCount.
type VersionedValue struct {
	// Version is the node's data version; -1 when not yet read.
	Version int32
	// Value is the count.
	Value int32
}

// SharedCount is Curator's SharedCount: a count that every participant
// reads from a local copy kept fresh by a watch, and changes with Set or a
// versioned TrySet. Its methods are safe for concurrent use.
//
// Layout: <path>, data = the count as 4 big-endian bytes (signed). Start
// creates it with the seed (container parents) unless it exists.
//
// Connection states: on SUSPENDED the local copy is kept and may be stale;
// TrySetCount then still fails safely on a version mismatch. On RECONNECTED
// (same session, or a new one after LOST) the node is read again and
// listeners hear of a value that changed meanwhile. The counter owns no
// ephemeral node, so LOST loses nothing.
type SharedCount struct {
	c    *framework.Client
	path string
	seed int32

	mu      sync.Mutex
	cur     VersionedValue
	mzxid   int64
	started bool
	closed  bool
	watch   *framework.Watch[framework.NodeData]

	ls listen.Set[int32]
}

// NewSharedCount returns a count at path (relative to c's namespace), seeded
// with seed when Start finds no node. An invalid path is an error wrapping
// framework.ErrInvalidPath; nothing is created before Start.
func NewSharedCount(c *framework.Client, path string, seed int32) (*SharedCount, error) {
	if c == nil {
		return nil, errors.New("counter: nil client")
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	return &SharedCount{c: c, path: path, seed: seed, cur: VersionedValue{Version: -1, Value: seed}}, nil
}

// EncodeInt32 is Curator SharedCount's encoding.
func EncodeInt32(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// DecodeInt32 reads Curator SharedCount's encoding.
func DecodeInt32(b []byte) (int32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: %d bytes, want 4", ErrCorrupt, len(b))
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// Start creates the node with the seed if it is missing, reads it and starts
// watching it. It returns once the first value is read; ctx bounds that.
func (s *SharedCount) Start(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.started:
		s.mu.Unlock()
		return errors.New("counter: already started")
	}
	s.started = true
	s.mu.Unlock()
	_, err := s.c.Create(ctx, s.path, EncodeInt32(s.seed), framework.WithContainerParents())
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("counter: create %s: %w", s.path, err)
	}
	var firstErr error // written by the first call only, read after DataWatch returns
	first := true
	// ctx bounds the first read only; the watch runs until Close stops it.
	w, err := s.c.DataWatch(ctx, s.path, func(data []byte, st *zk.Stat) bool {
		wasFirst := first
		first = false
		if st == nil {
			return true // deleted: keep the last value; a later create is seen
		}
		v, err := DecodeInt32(data)
		if err != nil {
			if wasFirst {
				firstErr = fmt.Errorf("counter: %s: %w", s.path, err)
			}
			return true // a later valid write is taken
		}
		s.update(st, v, true)
		return true
	})
	if err != nil {
		return fmt.Errorf("counter: watch %s: %w", s.path, err)
	}
	if firstErr != nil {
		w.Stop()
		<-w.Done()
		return firstErr
	}
	s.mu.Lock()
	s.watch = w
	closed := s.closed
	s.mu.Unlock()
	if closed {
		w.Stop()
		<-w.Done()
		return ErrClosed
	}
	return nil
}

// update takes a value read or written at st if it is newer than ours.
func (s *SharedCount) update(st *zk.Stat, v int32, notify bool) {
	s.mu.Lock()
	if st.Mzxid <= s.mzxid {
		s.mu.Unlock()
		return
	}
	s.mzxid = st.Mzxid
	s.cur = VersionedValue{Version: st.Version, Value: v}
	s.mu.Unlock()
	if notify {
		s.ls.Push(v)
	}
}

func (s *SharedCount) versioned() VersionedValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Count returns the local copy of the count (the seed before Start has read
// it). It never blocks on the network.
func (s *SharedCount) Count() int32 { return s.versioned().Value }

// Versioned returns the local copy with its version, for TrySetCount.
func (s *SharedCount) Versioned() VersionedValue { return s.versioned() }

// SetCount writes v unconditionally.
func (s *SharedCount) SetCount(ctx context.Context, v int32) error {
	if err := s.usable(); err != nil {
		return err
	}
	st, err := s.c.Set(ctx, s.path, EncodeInt32(v))
	if err != nil {
		return fmt.Errorf("counter: set %s: %w", s.path, err)
	}
	s.update(st, v, false)
	return nil
}

// TrySetCount writes v only if the count is still prev (value and version,
// as returned by Versioned): false, with the local copy refreshed, if
// another writer got there first or prev is not the current local copy.
func (s *SharedCount) TrySetCount(ctx context.Context, prev VersionedValue, v int32) (bool, error) {
	if err := s.usable(); err != nil {
		return false, err
	}
	if cur := s.versioned(); cur != prev || prev.Version < 0 {
		return false, nil
	}
	st, err := s.c.Set(ctx, s.path, EncodeInt32(v), framework.WithVersion(prev.Version))
	switch {
	case errors.Is(err, zk.ErrBadVersion), errors.Is(err, zk.ErrNoNode):
		if data, st, gerr := s.c.Get(ctx, s.path); gerr == nil {
			if cur, derr := DecodeInt32(data); derr == nil {
				s.update(st, cur, false)
			}
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("counter: set %s: %w", s.path, err)
	}
	s.update(st, v, false)
	return true, nil
}

// Listen registers fn to be called with each new value the watch sees
// (including this process's own writes), in order, on its own goroutine.
func (s *SharedCount) Listen(fn func(int32)) (remove func()) { return s.ls.Add(fn) }

// Close stops the watch and the listeners and waits for their goroutines.
func (s *SharedCount) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	w := s.watch
	s.mu.Unlock()
	if w != nil {
		w.Stop()
		<-w.Done()
	}
	s.ls.Close()
	return nil
}

func (s *SharedCount) usable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case !s.started:
		return ErrNotStarted
	}
	return nil
}
