package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// ErrNotEmpty is returned by Seed for a data directory that already holds a
// node's state.
var ErrNotEmpty = errors.New("cluster: data directory already holds raft state")

// Seed prepares a new node's data directory from a state machine snapshot
// taken at index (a backup): it becomes the node's only Raft snapshot, with
// the membership of a new cluster (members, or a standalone server with id
// when members is empty) and term 1. A node opened on the directory restores
// the snapshot instead of bootstrapping; every member of a new cluster is
// seeded with the same snapshot and membership. Zxids go on from index.
//
// dataDir must not hold Raft state yet (ErrNotEmpty).
func Seed(dataDir string, id int, members []Member, index uint64, state io.Reader) error {
	root := filepath.Join(dataDir, "raft")
	if entries, err := os.ReadDir(root); err == nil && len(entries) > 0 {
		return fmt.Errorf("%w: %s", ErrNotEmpty, root)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	var conf raft.Configuration
	if len(members) == 0 {
		// As Open runs a standalone node: its id, its in-memory address.
		rid := raft.ServerID(fmt.Sprint(max(id, 1)))
		conf.Servers = []raft.Server{{ID: rid, Address: raft.ServerAddress(rid), Suffrage: raft.Voter}}
	} else {
		conf = raftConfiguration(members)
	}
	store, err := raft.NewFileSnapshotStoreWithLogger(root, 2, hclog.NewNullLogger())
	if err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	_, trans := raft.NewInmemTransport("")
	defer trans.Close()
	sink, err := store.Create(raft.SnapshotVersionMax, index, 1, conf, index, trans)
	if err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	var head [16]byte
	copy(head[:8], snapshotMagic[:])
	binary.BigEndian.PutUint64(head[8:], index)
	if _, err := sink.Write(head[:]); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("cluster: seed: %w", err)
	}
	if _, err := io.Copy(sink, state); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("cluster: seed: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	return nil
}
