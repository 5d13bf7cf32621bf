package server_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
)

// TestSnapshotsRetained: a node keeps SnapshotsRetained snapshots (zoo.cfg
// autopurge.snapRetainCount), 2 by default, purging older ones as new ones
// are taken, and still restarts from what it kept.
func TestSnapshotsRetained(t *testing.T) {
	for _, retain := range []int{0, 3} {
		t.Run(fmt.Sprint("retain=", retain), func(t *testing.T) {
			s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.SnapshotsRetained = retain }))
			c := dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second})
			for i := range 6 {
				create(t, c, fmt.Sprintf("/n%d", i), "x", proto.ModePersistent)
				if err := s.Server().SnapshotNow(); err != nil {
					t.Fatalf("snapshot %d: %v", i, err)
				}
			}
			want := max(retain, 2)
			snaps, _ := filepath.Glob(filepath.Join(s.Config.DataDir, "raft", "snapshots", "*", "state.bin"))
			if len(snaps) != want {
				t.Fatalf("%d snapshots on disk, want %d: %v", len(snaps), want, snaps)
			}
			_ = c.Close(testCtx(t))
			s.Restart()
			c = dial(t, s.Addr, wireclient.Options{SessionTimeout: time.Second})
			if !exists(t, c, "/n5", false) {
				t.Error("/n5 lost across the restart")
			}
		})
	}
}
