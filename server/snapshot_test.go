package server_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// TestRestartFromSnapshotAndLog forces a Raft snapshot mid-run, writes more,
// and restarts: the node must come back from the snapshot plus the log after
// it, with data, sessions, ephemerals, sequence counters and zxids intact.
func TestRestartFromSnapshotAndLog(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithTickTime(tick))
	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second})
	create(t, c, "/before", "1", proto.ModePersistent)
	create(t, c, "/seq", "", proto.ModePersistent)
	for i := 0; i < 3; i++ {
		create(t, c, "/seq/n-", "", proto.ModePersistentSequential)
	}
	create(t, c, "/eph-before", "", proto.ModeEphemeral)

	if err := s.Server().SnapshotNow(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	snaps, _ := filepath.Glob(filepath.Join(s.Config.DataDir, "raft", "snapshots", "*", "state.bin"))
	if len(snaps) == 0 {
		t.Fatal("no snapshot on disk")
	}

	setData(t, c, "/before", "2")
	create(t, c, "/after", "3", proto.ModePersistent)
	create(t, c, "/eph-after", "", proto.ModeEphemeral)
	if _, err := c.Do(testCtx(t), proto.OpDelete, &proto.DeleteRequest{Path: "/seq/n-0000000000", Version: -1}, nil); err != nil {
		t.Fatal(err)
	}
	_, beforeStat := getData(t, c, "/before", false)
	id, pw, seen := c.SessionID(), c.Passwd(), c.LastZxid()
	last := s.Server().LastZxid()

	s.Restart()
	if got := s.Server().LastZxid(); got < last {
		t.Fatalf("lastZxid %d after restart < %d before", got, last)
	}
	c2 := dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second, SessionID: id, Passwd: pw, LastZxid: seen})
	if d, st := getData(t, c2, "/before", false); d != "2" || st != beforeStat {
		t.Fatalf("/before = %q %+v, want \"2\" %+v", d, st, beforeStat)
	}
	if d, _ := getData(t, c2, "/after", false); d != "3" {
		t.Fatalf("/after = %q", d)
	}
	for _, p := range []string{"/eph-before", "/eph-after"} {
		if !exists(t, c2, p, false) {
			t.Fatalf("%s lost", p)
		}
	}
	if kids := children(t, c2, "/seq", false); len(kids) != 2 {
		t.Fatalf("/seq children %v", kids)
	}
	// The sequence counter (the parent's count of child creations) continues.
	if p := create(t, c2, "/seq/n-", "", proto.ModePersistentSequential); p != fmt.Sprintf("/seq/n-%010d", 3) {
		t.Fatalf("sequence after restart: %s", p)
	}
	// A second restart with no new snapshot replays the same log again.
	last = s.Server().LastZxid()
	c2.Drop()
	s.Restart()
	if got := s.Server().LastZxid(); got < last {
		t.Fatalf("lastZxid %d after second restart < %d", got, last)
	}
	c3 := dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second, SessionID: id, Passwd: pw})
	if kids := children(t, c3, "/seq", false); len(kids) != 3 {
		t.Fatalf("/seq children after second restart %v", kids)
	}
}

// TestSnapshotWhileServing takes Raft snapshots while clients write and read
// (with watches), then restarts and checks every acknowledged write survived.
func TestSnapshotWhileServing(t *testing.T) {
	s := herdtest.Start(t)
	const workers, writes = 3, 40
	errs := make(chan error, workers)
	final := make([]string, workers)
	for w := 0; w < workers; w++ {
		c := dial(t, s.Addr, wireclient.Options{})
		path := fmt.Sprintf("/w%d", w)
		create(t, c, path, "", proto.ModePersistent)
		go func(w int) {
			ctx := testCtx(t)
			for i := 0; i < writes; i++ {
				val := fmt.Sprint(i)
				if _, err := c.Do(ctx, proto.OpSetData, &proto.SetDataRequest{Path: path, Data: []byte(val), Version: -1}, nil); err != nil {
					errs <- err
					return
				}
				if _, err := c.Do(ctx, proto.OpGetData, &proto.PathWatchRequest{Path: path, Watch: true}, &proto.GetDataResponse{}); err != nil {
					errs <- err
					return
				}
				final[w] = val
			}
			errs <- nil
		}(w)
	}
	for i := 0; i < 5; i++ {
		if err := s.Server().SnapshotNow(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			t.Fatalf("snapshot %d: %v", i, err)
		}
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s.Restart()
	c := dial(t, s.Addr, wireclient.Options{})
	for w := 0; w < workers; w++ {
		if d, st := getData(t, c, fmt.Sprintf("/w%d", w), false); d != final[w] || st.Version != writes {
			t.Fatalf("/w%d = %q version %d after restart, want %q version %d", w, d, st.Version, final[w], writes)
		}
	}
}

// TestDamagedSnapshotFallsBackToLog damages the newest snapshot: as ZooKeeper
// does, the node must start from the previous state (here: none) plus the log,
// which compaction kept for that, and serve every node; the damaged snapshot
// is moved aside.
func TestDamagedSnapshotFallsBackToLog(t *testing.T) {
	s := herdtest.Start(t)
	c := dial(t, s.Addr, wireclient.Options{})
	create(t, c, "/x", "data", proto.ModePersistent)
	if err := s.Server().SnapshotNow(); err != nil {
		t.Fatal(err)
	}
	create(t, c, "/y", "after", proto.ModePersistent)
	c.Drop()
	s.Stop()
	snaps, _ := filepath.Glob(filepath.Join(s.Config.DataDir, "raft", "snapshots", "*", "state.bin"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v", snaps)
	}
	b, err := os.ReadFile(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(snaps[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	c = dial(t, s.Addr, wireclient.Options{})
	for p, want := range map[string]string{"/x": "data", "/y": "after"} {
		if d, _ := getData(t, c, p, false); d != want {
			t.Fatalf("%s = %q after falling back, want %q", p, d, want)
		}
	}
	if moved, _ := filepath.Glob(filepath.Join(s.Config.DataDir, "raft", "damaged-snapshots", "*", "state.bin")); len(moved) != 1 {
		t.Fatalf("damaged snapshot not moved aside: %v", moved)
	}
}
