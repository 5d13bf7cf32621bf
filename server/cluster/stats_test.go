package cluster

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

type monotonicStore struct{ raft.LogStore }

func (monotonicStore) IsMonotonic() bool { return true }

// TestTimedLogStoreKeepsMonotonic: the timing wrapper must not hide that the
// log store is monotonic, or a follower installing a snapshot fails to
// append after it.
func TestTimedLogStoreKeepsMonotonic(t *testing.T) {
	var observed int
	inner := monotonicStore{raft.NewInmemStore()}
	var ls raft.LogStore = timedLogStore{LogStore: inner, observe: func(time.Duration) { observed++ }}
	if ms, ok := ls.(raft.MonotonicLogStore); !ok || !ms.IsMonotonic() {
		t.Fatal("timedLogStore hides IsMonotonic")
	}
	if err := ls.StoreLogs([]*raft.Log{{Index: 1}, {Index: 2}}); err != nil || observed != 1 {
		t.Fatalf("StoreLogs: %v, observed %d", err, observed)
	}
	plain := timedLogStore{LogStore: raft.NewInmemStore(), observe: func(time.Duration) {}}
	if plain.IsMonotonic() {
		t.Error("a non-monotonic store reported monotonic")
	}
}
