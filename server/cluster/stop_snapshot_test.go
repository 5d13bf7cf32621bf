package cluster

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// openStandalone opens a one-node cluster on dir and waits until it serves.
func openStandalone(t *testing.T, dir string, f raft.FSM) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	n, err := Open(ctx, Config{DataDir: dir, FSM: f, Timing: testTiming,
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

// proposeMany proposes count entries named prefix-i, all in flight at once.
func proposeMany(t *testing.T, n *Node, prefix string, count int) uint64 {
	t.Helper()
	ps := make([]*Proposal, count)
	for i := range ps {
		ps[i] = n.Propose([]byte(prefix + "-" + strconv.Itoa(i)))
	}
	var last uint64
	for _, p := range ps {
		res, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		last = max(last, res.Index)
	}
	return last
}

// newestSnapshot is the index of the newest snapshot in dir (0: none).
func newestSnapshot(t *testing.T, dir string) uint64 {
	t.Helper()
	fss, err := raft.NewFileSnapshotStore(filepath.Join(dir, "raft"), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := fss.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 {
		return 0
	}
	return list[0].Index
}

// TestCleanStopTakesSnapshot: a clean stop with a long log tail behind the
// last snapshot writes one, so the next start restores it and replays
// nothing; a crash (Kill) writes none, and a short tail is left to replay.
func TestCleanStopTakesSnapshot(t *testing.T) {
	dir := t.TempDir()
	f := &listFSM{}
	n := openStandalone(t, dir, f)
	last := proposeMany(t, n, "a", shutdownSnapshotMin+10)
	if got := newestSnapshot(t, dir); got != 0 {
		t.Fatalf("snapshot at %d before the stop", got)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if got := newestSnapshot(t, dir); got < last {
		t.Fatalf("after a clean stop the newest snapshot ends at %d, the log at %d", got, last)
	}

	f2 := &listFSM{}
	n = openStandalone(t, dir, f2)
	if f2.restores != 1 || len(f2.entries) != shutdownSnapshotMin+10 {
		t.Fatalf("restart: %d restores, %d entries", f2.restores, len(f2.entries))
	}
	snapAt := newestSnapshot(t, dir)
	proposeMany(t, n, "b", shutdownSnapshotMin+10)
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if got := newestSnapshot(t, dir); got != snapAt {
		t.Fatalf("a kill took a snapshot (%d, was %d)", got, snapAt)
	}

	// The crash left the tail to replay; this clean stop snapshots it.
	f3 := &listFSM{}
	n = openStandalone(t, dir, f3)
	if !f3.has("b-0") || len(f3.entries) != 2*(shutdownSnapshotMin+10) {
		t.Fatalf("after replay: %d entries", len(f3.entries))
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	snapAt = newestSnapshot(t, dir)

	f4 := &listFSM{}
	n = openStandalone(t, dir, f4)
	proposeMany(t, n, "c", 10)
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if got := newestSnapshot(t, dir); got != snapAt {
		t.Fatalf("a short tail took a snapshot (%d, was %d)", got, snapAt)
	}
	f5 := &listFSM{}
	n = openStandalone(t, dir, f5)
	defer n.Shutdown()
	if !f5.has("c-9") || len(f5.entries) != 2*(shutdownSnapshotMin+10)+10 {
		t.Fatalf("after replaying a short tail: %d entries", len(f5.entries))
	}
}
