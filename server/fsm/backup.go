package fsm

import (
	"fmt"
	"io"

	"github.com/herd-io/herd/server/tree"
)

// WriteSnapshotTo writes a consistent snapshot of the whole state (tree and
// sessions at one applied zxid) to w, in the format Restore reads, and
// returns its zxid. The state is cloned under the read lock, so applies go
// on while w is written.
func (f *FSM) WriteSnapshotTo(w io.Writer) (int64, error) {
	snap, err := f.Snapshot()
	if err != nil {
		return 0, err
	}
	s := snap.(*frozenState)
	if err := writeSnapshot(w, s); err != nil {
		return 0, fmt.Errorf("fsm: write snapshot: %w", err)
	}
	return s.zxid, nil
}

// SnapshotZxid decodes a whole snapshot, checking it as Restore would, and
// returns the zxid it was taken at.
func SnapshotZxid(r io.Reader) (int64, error) {
	s, err := readSnapshot(r, tree.Options{})
	if err != nil {
		return 0, err
	}
	return s.zxid, nil
}

// SnapshotTree decodes a whole snapshot and returns its tree, for tools that
// inspect a backup.
func SnapshotTree(r io.Reader) (*tree.Tree, error) {
	s, err := readSnapshot(r, tree.Options{})
	if err != nil {
		return nil, err
	}
	return s.tree, nil
}
