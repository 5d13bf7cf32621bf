// Package storage opens a node's durable state for Raft: the log store, the
// stable store (term and vote) and the snapshot store, laid out under the data
// directories as herd has always laid them out.
//
// It is the one place that knows which stores herd uses and how they sit on
// disk, so the replication code above it (server's Raft node, and the cluster)
// depends on raft's interfaces only.
package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// DefaultSegmentSize is the size of one raft-wal log segment file.
const DefaultSegmentSize = 16 << 20

// Options says where the stores live.
type Options struct {
	// Dir holds the snapshots (Dir/raft/snapshots). Required.
	Dir string
	// LogDir holds the log and the stable store (LogDir/raft/wal). Default Dir.
	LogDir string
	// SegmentSize is the size of a log segment file. Default DefaultSegmentSize.
	SegmentSize int
	// SnapshotsRetained is how many snapshots are kept. Default 2.
	SnapshotsRetained int
	// Logger receives the stores' own messages. Default: none.
	Logger hclog.Logger
}

// Store is a node's durable Raft state. Close it after Raft has shut down.
type Store struct {
	// Log is the Raft log.
	Log raft.LogStore
	// Stable holds Raft's current term and vote.
	Stable raft.StableStore
	// Snapshots holds the FSM snapshots.
	Snapshots raft.SnapshotStore

	wal  *wal.WAL
	meta *metadb.BoltMetaDB
}

// Open opens (creating if needed) the stores under the directories in opts.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("storage: Options.Dir is required")
	}
	if opts.LogDir == "" {
		opts.LogDir = opts.Dir
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.SnapshotsRetained <= 0 {
		opts.SnapshotsRetained = 2
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	snapDir := filepath.Join(opts.Dir, "raft")
	if err := os.MkdirAll(snapDir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: data dir: %w", err)
	}
	walDir := filepath.Join(opts.LogDir, "raft", "wal")
	if err := os.MkdirAll(walDir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: data log dir: %w", err)
	}
	// WAL.Close leaves its metadata database (and its file lock) open, so the
	// store owns that database and closes it itself.
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(walDir, wal.WithLogger(opts.Logger), wal.WithSegmentSize(opts.SegmentSize), wal.WithMetaStore(meta))
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("storage: open raft log in %s: %w", walDir, err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(snapDir, opts.SnapshotsRetained, opts.Logger)
	if err != nil {
		w.Close()
		meta.Close()
		return nil, fmt.Errorf("storage: open snapshots in %s: %w", snapDir, err)
	}
	return &Store{Log: w, Stable: w, Snapshots: snaps, wal: w, meta: meta}, nil
}

// Close closes the log and the stable store.
func (s *Store) Close() error {
	err := s.wal.Close()
	if cerr := s.meta.Close(); err == nil {
		err = cerr
	}
	return err
}
