// Package storage opens a node's durable state for Raft: the log store, the
// stable store (term and vote) and the snapshot store, laid out under the data
// directories as herd has always laid them out.
//
// It is the one place that knows which stores herd uses and how they sit on
// disk, so the replication code above it (server's Raft node, and the cluster)
// depends on raft's interfaces only.
//
// The log is raft-wal's, with what a coordination service needs on top (see
// docs/log-store.md):
//   - every entry carries a checksum, verified on every read (replay, a
//     follower's catch-up); Open verifies the whole log first — every batch
//     checksum, every entry — and refuses to start on damage, naming the file
//     and offset. Only a torn last batch (a crash mid-append, never
//     acknowledged) is cut; a clean shutdown records its last index, so after
//     one even the last batch may not go missing.
//   - a write that fails (a full disk) is retried until it succeeds, the log
//     reopened from disk between tries, so writes resume once space is back;
//     Health reports the failure meanwhile. A segment-sized file is kept in
//     reserve so that rotating to a new segment needs no free space.
//   - compaction keeps the log after the oldest retained snapshot, and Open
//     moves a damaged snapshot aside and falls back to the previous one plus
//     the log (refusing if the log does not reach back far enough).
package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/metadb"
)

// DefaultSegmentSize is the size of one log segment file; each is allocated
// in full when created, and one more is kept in reserve.
const DefaultSegmentSize = 16 << 20

// MinSegmentSize is the smallest segment size Open accepts.
const MinSegmentSize = 64 << 10

// Options says where the stores live.
type Options struct {
	// Dir holds the snapshots (Dir/raft/snapshots). Required.
	Dir string
	// LogDir holds the log and the stable store (LogDir/raft/wal). Default Dir.
	LogDir string
	// SegmentSize is the size of a log segment file (zoo.cfg preAllocSize).
	// Default DefaultSegmentSize; at least MinSegmentSize.
	SegmentSize int
	// SnapshotsRetained is how many snapshots are kept. Default 2.
	SnapshotsRetained int
	// Logger receives the stores' own messages. Default: none.
	Logger hclog.Logger
	// FailWrite, if set, is called before each create, write and fsync of a
	// log segment file, and a non-nil result fails that operation: tests use
	// it to act out a full disk. Leave it nil.
	FailWrite func(op Fault, file string) error
}

// Store is a node's durable Raft state. Close it after Raft has shut down.
type Store struct {
	// Log is the Raft log.
	Log raft.LogStore
	// Stable holds Raft's current term and vote.
	Stable raft.StableStore
	// Snapshots holds the FSM snapshots.
	Snapshots raft.SnapshotStore

	log  *logStore
	meta *metadb.BoltMetaDB
}

func (o *Options) withDefaults() (Options, error) {
	out := *o
	if out.Dir == "" {
		return out, errors.New("storage: Options.Dir is required")
	}
	if out.LogDir == "" {
		out.LogDir = out.Dir
	}
	if out.SegmentSize == 0 {
		out.SegmentSize = DefaultSegmentSize
	}
	if out.SegmentSize < MinSegmentSize {
		return out, fmt.Errorf("storage: segment size %d is below the minimum %d", out.SegmentSize, MinSegmentSize)
	}
	if out.SnapshotsRetained <= 0 {
		out.SnapshotsRetained = 2
	}
	if out.Logger == nil {
		out.Logger = hclog.NewNullLogger()
	}
	return out, nil
}

// Open opens (creating if needed) the stores under the directories in opts,
// after verifying the log and the snapshots. Damage is an error wrapping
// ErrDamaged (a *DamageError names the file and offset).
func Open(opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	snapRoot := filepath.Join(opts.Dir, "raft")
	if err := os.MkdirAll(snapRoot, 0o755); err != nil {
		return nil, fmt.Errorf("storage: data dir: %w", err)
	}
	walDir := filepath.Join(opts.LogDir, "raft", "wal")
	if err := os.MkdirAll(walDir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: data log dir: %w", err)
	}
	// WAL.Close leaves its metadata database (and its file lock) open, so the
	// store owns that database and closes it itself.
	meta := &metadb.BoltMetaDB{}
	s, err := open(opts, snapRoot, walDir, meta)
	if err != nil {
		meta.Close()
		return nil, err
	}
	return s, nil
}

func open(opts Options, snapRoot, walDir string, meta *metadb.BoltMetaDB) (*Store, error) {
	state, err := meta.Load(walDir)
	if err != nil {
		return nil, fmt.Errorf("storage: open raft log metadata in %s: %w", walDir, err)
	}
	vo, fresh, err := readVerifyOptions(meta)
	if err != nil {
		return nil, err
	}
	rep, err := verifyLog(walDir, state, vo)
	if err != nil {
		return nil, fmt.Errorf("storage: refusing to open the raft log: %w", err)
	}
	snaps, err := verifySnapshots(snapRoot, false)
	if err != nil {
		return nil, err
	}
	plan, err := planSnapshots(snaps, rep.FirstIndex, rep.LastIndex)
	if err != nil {
		return nil, fmt.Errorf("storage: refusing to open: %w", err)
	}
	// Verified: from here on, repair what a crash or a full disk left.
	for _, d := range plan.damaged {
		to, err := moveAside(snapRoot, d)
		if err != nil {
			return nil, fmt.Errorf("storage: move damaged snapshot aside: %w", err)
		}
		opts.Logger.Error("snapshot is damaged; moved aside, falling back to the previous snapshot and the log",
			"snapshot", d.ID, "error", d.Err, "movedTo", to)
	}
	for _, sr := range rep.Segments {
		if sr.SealedUnrecorded {
			opts.Logger.Warn("completing a log segment rotation that a full disk interrupted", "file", sr.File)
		}
		if sr.TornBytes > 0 {
			opts.Logger.Warn("cutting a torn last write from the raft log (a crash mid-append; never acknowledged)",
				"file", sr.File, "offset", sr.TornAt, "bytes", sr.TornBytes)
		}
		if sr.IndexMissing {
			opts.Logger.Warn("writing the index a log tail truncation left out of a sealed segment (hashicorp/raft-wal#31)", "file", sr.File)
		}
	}
	fixed, changed, err := repairLog(rep, opts.SegmentSize)
	if err != nil {
		return nil, err
	}
	if changed {
		if err := meta.CommitState(fixed); err != nil {
			return nil, fmt.Errorf("storage: complete segment rotation: %w", err)
		}
	}
	if fresh {
		// The first open with entry checksums: every entry from here on has one.
		vo.checksumFrom = rep.LastIndex + 1
		if rep.LastIndex == 0 {
			vo.checksumFrom = 0
		}
		if err := meta.SetStable(keyChecksumFrom, binary.LittleEndian.AppendUint64(nil, vo.checksumFrom)); err != nil {
			return nil, fmt.Errorf("storage: record checksum start: %w", err)
		}
	}
	if vo.hasCleanStop {
		// From now on a stop may be a crash, whose torn last write is cut.
		if err := meta.SetStable(keyCleanStop, nil); err != nil {
			return nil, fmt.Errorf("storage: clear clean-stop record: %w", err)
		}
	}

	ls := &logStore{
		dir: walDir, opts: opts, meta: meta, log: opts.Logger,
		checksumFrom: vo.checksumFrom, interrupted: make(chan struct{}),
	}
	ls.fs = newSegmentFS(walDir, opts.SegmentSize, opts.FailWrite, opts.Logger)
	ls.fs.Reserve()
	w, err := ls.openWAL()
	if err != nil {
		return nil, fmt.Errorf("storage: open raft log in %s: %w", walDir, err)
	}
	ls.w = w
	fss, err := raft.NewFileSnapshotStoreWithLogger(snapRoot, opts.SnapshotsRetained, opts.Logger)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("storage: open snapshots in %s: %w", snapRoot, err)
	}
	ls.snaps = fss
	return &Store{Log: ls, Stable: ls, Snapshots: fss, log: ls, meta: meta}, nil
}

// readVerifyOptions reads herd's stable keys; fresh reports a log opened for
// the first time with entry checksums.
func readVerifyOptions(meta *metadb.BoltMetaDB) (vo verifyOptions, fresh bool, err error) {
	raw, err := meta.GetStable(keyChecksumFrom)
	if err != nil {
		return vo, false, fmt.Errorf("storage: read stable store: %w", err)
	}
	if len(raw) == 8 {
		vo.checksumFrom = binary.LittleEndian.Uint64(raw)
	} else {
		fresh = true
		vo.checksumFrom = ^uint64(0) // every entry so far predates checksums
	}
	raw, err = meta.GetStable(keyCleanStop)
	if err != nil {
		return vo, false, fmt.Errorf("storage: read stable store: %w", err)
	}
	if len(raw) == 8 {
		vo.cleanStop, vo.hasCleanStop = binary.LittleEndian.Uint64(raw), true
	}
	return vo, fresh, nil
}

// Health returns nil while the log can be written, and otherwise an error
// wrapping ErrCannotWrite and the cause (e.g. syscall.ENOSPC). Writes wait
// meanwhile and resume by themselves.
func (s *Store) Health() error { return s.log.healthErr() }

// LogCounters are running totals of the log's writes since Open, for
// measuring how many entries share a write and an fsync.
type LogCounters struct {
	// Writes is the number of StoreLogs calls that wrote entries.
	Writes uint64
	// Entries is the number of entries those calls wrote.
	Entries uint64
	// Syncs is the number of fsyncs of log segment files.
	Syncs uint64
}

// LogCounters returns the log's running totals now.
func (s *Store) LogCounters() LogCounters {
	return LogCounters{Writes: s.log.writes.Load(), Entries: s.log.entries.Load(), Syncs: s.log.fs.syncs.Load()}
}

// Interrupt makes a write that waits for the disk fail instead of retrying.
// Call it before shutting Raft down, which would otherwise wait for it.
func (s *Store) Interrupt() { s.log.interrupt() }

// Close closes the log and the stable store, recording the last index so
// that the next Open knows nothing after it may be missing.
func (s *Store) Close() error {
	s.log.interrupt()
	w := s.log.current()
	last, err := w.LastIndex()
	s.log.mu.RLock()
	broken := s.log.broken
	s.log.mu.RUnlock()
	if err == nil && !broken {
		if serr := s.meta.SetStable(keyCleanStop, binary.LittleEndian.AppendUint64(nil, last)); serr != nil {
			s.log.log.Warn("could not record a clean stop", "error", serr)
		}
	}
	err = w.Close()
	if cerr := s.meta.Close(); err == nil {
		err = cerr
	}
	return err
}
