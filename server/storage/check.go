package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/types"
	"go.etcd.io/bbolt"
)

// ErrInUse is returned by Check when a running node holds the log.
var ErrInUse = errors.New("storage: the log is in use by a running node")

// CheckReport is what Check found in a stopped node's data directories.
type CheckReport struct {
	// Log describes the Raft log (as far as it was read).
	Log *LogReport
	// LogErr is the damage found in the log, nil when it verifies.
	LogErr error
	// Snapshots are the snapshots, newest first, each with its verdict.
	Snapshots []SnapshotReport
	// SnapshotErr is set when the snapshots plus the log cannot restore the
	// state (a damaged snapshot with no log to fall back on).
	SnapshotErr error
}

// OK reports whether the node would start with all its state.
func (r *CheckReport) OK() bool { return r.LogErr == nil && r.SnapshotErr == nil }

// Check verifies a stopped node's log and snapshots, as Open would, without
// changing anything. dir and logDir are as in Options.
func Check(dir, logDir string) (*CheckReport, error) {
	if logDir == "" {
		logDir = dir
	}
	walDir := filepath.Join(logDir, "raft", "wal")
	state, vo, err := readMetaReadOnly(walDir)
	if err != nil {
		return nil, err
	}
	r := &CheckReport{}
	r.Log, r.LogErr = verifyLog(walDir, state, vo)
	r.Snapshots, err = verifySnapshots(filepath.Join(dir, "raft"), true)
	if err != nil {
		return nil, err
	}
	if r.LogErr == nil {
		_, r.SnapshotErr = planSnapshots(r.Snapshots, r.Log.FirstIndex, r.Log.LastIndex)
	}
	return r, nil
}

// readMetaReadOnly reads raft-wal's metadata database without writing it,
// and without waiting for a running node's lock.
func readMetaReadOnly(walDir string) (types.PersistentState, verifyOptions, error) {
	var state types.PersistentState
	vo := verifyOptions{checksumFrom: ^uint64(0)}
	path := filepath.Join(walDir, metadb.FileName)
	if _, err := os.Stat(path); err != nil {
		return state, vo, fmt.Errorf("storage: no raft log here: %w", err)
	}
	db, err := bbolt.Open(path, 0o644, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return state, vo, fmt.Errorf("%w (%s is locked)", ErrInUse, path)
	}
	if err != nil {
		return state, vo, fmt.Errorf("storage: open %s: %w", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte(metadb.MetaBucket)); b != nil {
			if raw := b.Get([]byte(metadb.MetaKey)); raw != nil {
				if err := json.Unmarshal(raw, &state); err != nil {
					return &DamageError{File: path, Offset: -1, Reason: "log metadata does not parse: " + err.Error()}
				}
			}
		}
		if b := tx.Bucket([]byte(metadb.StableBucket)); b != nil {
			if raw := b.Get(keyChecksumFrom); len(raw) == 8 {
				vo.checksumFrom = binary.LittleEndian.Uint64(raw)
			}
			if raw := b.Get(keyCleanStop); len(raw) == 8 {
				vo.cleanStop, vo.hasCleanStop = binary.LittleEndian.Uint64(raw), true
			}
		}
		return nil
	})
	return state, vo, err
}
