package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// makeSnapshots writes snapshots at the given indexes with raft's file
// store, as a node does, and returns their state files, oldest first.
func makeSnapshots(t *testing.T, root string, indexes ...uint64) []string {
	t.Helper()
	fss, err := raft.NewFileSnapshotStoreWithLogger(root, len(indexes), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, idx := range indexes {
		sink, err := fss.Create(raft.SnapshotVersionMax, idx, 1, raft.Configuration{}, idx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sink.Write([]byte("state at some index")); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		states = append(states, filepath.Join(root, snapshotsDir, sink.ID(), snapshotStateFile))
	}
	return states
}

// TestOpenChecksSnapshotsUpToTheFirstGood: opening reads the older
// snapshots' state only when the newer ones fail; Check reads them all.
func TestOpenChecksSnapshotsUpToTheFirstGood(t *testing.T) {
	root := t.TempDir()
	states := makeSnapshots(t, root, 10, 20)
	if err := os.WriteFile(states[0], []byte("damaged older state"), 0o644); err != nil {
		t.Fatal(err)
	}
	open, err := verifySnapshots(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].Index != 20 || open[0].Err != nil || open[0].unverified ||
		open[1].Err != nil || !open[1].unverified {
		t.Fatalf("open: %+v", open)
	}
	all, err := verifySnapshots(root, true)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(all[1].Err, ErrDamaged) || all[0].Err != nil {
		t.Fatalf("check: %+v", all)
	}

	// The newest damaged: the next one is checked, and used.
	if err := os.WriteFile(states[1], []byte("damaged newer state"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := makeSnapshots(t, t.TempDir(), 10)
	b, err := os.ReadFile(fresh[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(states[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	open, err = verifySnapshots(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(open[0].Err, ErrDamaged) || open[1].Err != nil || open[1].unverified {
		t.Fatalf("open after the newest is damaged: %+v", open)
	}
	plan, err := planSnapshots(open, 5, 25)
	if err != nil || plan.usable == nil || plan.usable.Index != 10 || len(plan.damaged) != 1 {
		t.Fatalf("plan %+v, %v", plan, err)
	}
}
