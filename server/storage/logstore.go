package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
)

// Stable-store keys of herd's own (raft's are CurrentTerm, LastVoteTerm and
// LastVoteCand).
var (
	// keyChecksumFrom is the first log index written with entry checksums;
	// entries before it predate them.
	keyChecksumFrom = []byte("herd.checksumFrom")
	// keyCleanStop is the last log index at a clean shutdown, cleared at open.
	keyCleanStop = []byte("herd.cleanStopIndex")
)

// Retry delays for a write that failed (a full disk): short at first, then
// once a second, so writes resume about a second after space returns.
const (
	firstRetryDelay = 10 * time.Millisecond
	maxRetryDelay   = time.Second
)

// ErrCannotWrite is wrapped by Store.Health while the log cannot be written.
var ErrCannotWrite = errors.New("storage: the raft log cannot be written")

// logStore is the raft.LogStore and raft.StableStore herd gives raft: raft-wal
// under a checksum layer, reopened from disk after a failed write.
type logStore struct {
	dir          string
	opts         Options
	meta         *metadb.BoltMetaDB
	fs           *segmentFS
	log          hclog.Logger
	checksumFrom uint64
	snaps        *raft.FileSnapshotStore

	// mu guards w and broken. Readers and DeleteRange hold it shared; a
	// reopen holds it exclusively.
	mu     sync.RWMutex
	w      *wal.WAL
	broken bool // the last write failed: w's memory may not match the disk

	writes, entries atomic.Uint64 // see Store.LogCounters

	health      atomic.Pointer[healthState]
	interrupted chan struct{}
	interruptMu sync.Once
}

type healthState struct {
	err   error
	since time.Time
}

var (
	_ raft.LogStore          = (*logStore)(nil)
	_ raft.MonotonicLogStore = (*logStore)(nil)
	_ raft.StableStore       = (*logStore)(nil)
)

func (l *logStore) openWAL() (*wal.WAL, error) {
	return wal.Open(l.dir,
		wal.WithLogger(l.log),
		wal.WithSegmentSize(l.opts.SegmentSize),
		wal.WithMetaStore(l.meta),
		wal.WithSegmentFiler(segment.NewFiler(l.dir, l.fs)))
}

func (l *logStore) current() *wal.WAL {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w
}

// FirstIndex implements raft.LogStore.
func (l *logStore) FirstIndex() (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.FirstIndex()
}

// LastIndex implements raft.LogStore.
func (l *logStore) LastIndex() (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.LastIndex()
}

// GetLog implements raft.LogStore, verifying the entry's checksum.
func (l *logStore) GetLog(index uint64, out *raft.Log) error {
	l.mu.RLock()
	err := l.w.GetLog(index, out)
	l.mu.RUnlock()
	if err != nil {
		return err // raft compares ErrLogNotFound by identity
	}
	if out.Index != index {
		return l.damaged(index, fmt.Sprintf("entry holds index %d", out.Index))
	}
	switch err := verifyChecksum(out); {
	case errors.Is(err, errNoChecksum) && index < l.checksumFrom:
		return nil
	case err != nil:
		return l.damaged(index, err.Error())
	}
	return nil
}

// damaged builds the error for a damaged entry met at run time, naming its
// segment file and frame offset.
func (l *logStore) damaged(index uint64, reason string) error {
	de := &DamageError{File: l.dir, Offset: -1, Index: index, Reason: reason}
	if state, err := l.meta.Load(l.dir); err == nil {
		for _, si := range state.Segments {
			if si.BaseIndex <= index && (si.SealTime.IsZero() || index <= si.MaxIndex) {
				de.File = filepath.Join(l.dir, segmentFileName(si))
				if buf, err := os.ReadFile(de.File); err == nil {
					if ents := entryFrames(buf); int(index-si.BaseIndex) < len(ents) {
						de.Offset = ents[index-si.BaseIndex].Offset
					}
				}
			}
		}
	}
	l.log.Error("raft log entry is damaged", "error", de.Error())
	return de
}

// StoreLog implements raft.LogStore.
func (l *logStore) StoreLog(log *raft.Log) error { return l.StoreLogs([]*raft.Log{log}) }

// StoreLogs implements raft.LogStore. A write that fails (a full disk, a
// failed segment rotation) is retried until it succeeds or the store is
// interrupted: raft sees a slow disk, not a failed one, so a node does not
// step down and hold elections it cannot win while it cannot write. Before a
// retry the log is reopened from disk, because raft-wal's in-memory state is
// not usable after a failed append.
func (l *logStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	sealed := make([]*raft.Log, len(logs))
	for i, lg := range logs {
		sealed[i] = withChecksum(lg)
	}
	delay := firstRetryDelay
	for attempt := 0; ; attempt++ {
		err := l.tryStore(sealed, attempt > 0)
		if err == nil {
			l.writes.Add(1)
			l.entries.Add(uint64(len(logs)))
			if attempt > 0 {
				if h := l.health.Swap(nil); h != nil {
					l.log.Warn("raft log writable again", "after", time.Since(h.since).Round(time.Millisecond).String())
				}
			}
			return nil
		}
		if h := l.health.Load(); h == nil {
			l.health.Store(&healthState{err: err, since: time.Now()})
			l.log.Error("cannot write the raft log; writes wait until it can be written", "error", err)
		} else if h.err.Error() != err.Error() {
			l.health.Store(&healthState{err: err, since: h.since})
		}
		t := time.NewTimer(delay)
		select {
		case <-l.interrupted:
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

func (l *logStore) tryStore(logs []*raft.Log, retry bool) error {
	// Only raft's one writer calls this (and reopen), so w cannot be
	// swapped underneath it; readers hold mu around their own calls.
	l.mu.RLock()
	broken := l.broken
	l.mu.RUnlock()
	if broken {
		if err := l.reopen(); err != nil {
			return err
		}
	}
	w := l.current()
	if retry {
		// A failed rotation fails the append after the one it sealed, so
		// part of what is retried may be stored already.
		last, err := w.LastIndex()
		if err != nil {
			return err
		}
		first := logs[0].Index
		for len(logs) > 0 && logs[0].Index <= last {
			logs = logs[1:]
		}
		if first <= last {
			// The failed attempt may have written them and then failed
			// its fsync: reading them back says only that they reached
			// the page cache. They are stored once synced.
			if err := l.syncSegmentsFrom(first); err != nil {
				return err
			}
		}
		if len(logs) == 0 {
			return nil
		}
	}
	if err := w.StoreLogs(logs); err != nil {
		l.mu.Lock()
		l.broken = true
		l.mu.Unlock()
		return err
	}
	return nil
}

// syncSegmentsFrom fsyncs every segment that may hold entries from index
// on: the open one, and any sealed one that ends at or after index.
func (l *logStore) syncSegmentsFrom(index uint64) error {
	state, err := l.meta.Load(l.dir)
	if err != nil {
		return err
	}
	for _, si := range state.Segments {
		if !si.SealTime.IsZero() && si.MaxIndex < index {
			continue
		}
		name := segmentFileName(si)
		if err := l.fs.check(FaultSync, name); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) && si.SealTime.IsZero() {
			continue // a new tail raft-wal has not created yet
		}
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("storage: sync %s: %w", name, err)
		}
	}
	return nil
}

// reopen verifies and repairs the log on disk and opens it afresh; the old
// WAL keeps serving reads until the new one is open.
func (l *logStore) reopen() error {
	state, err := l.meta.Load(l.dir)
	if err != nil {
		return err
	}
	rep, err := verifyLog(l.dir, state, verifyOptions{checksumFrom: l.checksumFrom})
	if err != nil {
		return err
	}
	fixed, changed, err := repairLog(rep, l.opts.SegmentSize)
	if err != nil {
		return err
	}
	if changed {
		if err := l.meta.CommitState(fixed); err != nil {
			return fmt.Errorf("storage: complete segment rotation: %w", err)
		}
	}
	w, err := l.openWAL()
	if err != nil {
		return fmt.Errorf("storage: reopen raft log: %w", err)
	}
	l.mu.Lock()
	old := l.w
	l.w, l.broken = w, false
	l.mu.Unlock()
	old.Close()
	l.log.Info("raft log reopened after a failed write")
	return nil
}

// DeleteRange implements raft.LogStore. Compaction after a snapshot keeps
// the entries after the oldest retained snapshot, so a damaged newest
// snapshot falls back to the previous one plus the log.
func (l *logStore) DeleteRange(min, max uint64) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.broken {
		return fmt.Errorf("%w: reopening after a failed write", ErrCannotWrite)
	}
	first, err := l.w.FirstIndex()
	if err != nil {
		return err
	}
	last, err := l.w.LastIndex()
	if err != nil {
		return err
	}
	if min <= first && max < last && l.snaps != nil {
		// A head compaction. (Deleting through the last entry is raft
		// clearing the log for a restored snapshot; that must happen whole.)
		keep := uint64(0)
		if snaps, err := l.snaps.List(); err == nil && len(snaps) >= l.opts.SnapshotsRetained {
			keep = snaps[len(snaps)-1].Index
		}
		if max > keep {
			max = keep
		}
		if max < min {
			return nil
		}
	}
	return l.w.DeleteRange(min, max)
}

// IsMonotonic implements raft.MonotonicLogStore (raft-wal has no gaps).
func (l *logStore) IsMonotonic() bool { return true }

// Set implements raft.StableStore.
func (l *logStore) Set(key, val []byte) error { return l.meta.SetStable(key, val) }

// Get implements raft.StableStore.
func (l *logStore) Get(key []byte) ([]byte, error) { return l.meta.GetStable(key) }

// SetUint64 implements raft.StableStore, encoded as raft-wal encodes it.
func (l *logStore) SetUint64(key []byte, val uint64) error {
	return l.meta.SetStable(key, binary.LittleEndian.AppendUint64(nil, val))
}

// GetUint64 implements raft.StableStore.
func (l *logStore) GetUint64(key []byte) (uint64, error) {
	raw, err := l.meta.GetStable(key)
	if err != nil || len(raw) == 0 {
		return 0, err
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("storage: stable key %q is not a uint64", key)
	}
	return binary.LittleEndian.Uint64(raw), nil
}

func (l *logStore) interrupt() {
	l.interruptMu.Do(func() { close(l.interrupted) })
}

func (l *logStore) healthErr() error {
	h := l.health.Load()
	if h == nil {
		return nil
	}
	return fmt.Errorf("%w since %s: %w", ErrCannotWrite, h.since.Format(time.RFC3339), h.err)
}
