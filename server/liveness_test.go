package server

import (
	"maps"
	"slices"
	"testing"
)

func sessionIDs(m map[int64]struct{}) []int64 { return slices.Sorted(maps.Keys(m)) }

// A batch the leader did not take goes again with the next one, once.
func TestTouchesFailedBatchResentOnce(t *testing.T) {
	var tt touches
	tt.add(1)
	tt.add(2)
	batch, fresh := tt.take()
	if got := sessionIDs(batch); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("first batch %v", got)
	}
	tt.failed(fresh)
	tt.add(3) // seen alive while the batch was in flight
	batch, fresh = tt.take()
	if got := sessionIDs(batch); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("after a failed batch the next is %v, want 1 2 3", got)
	}
	tt.failed(fresh) // fails again: only 3 is still young enough to resend
	batch, _ = tt.take()
	if got := sessionIDs(batch); !slices.Equal(got, []int64{3}) {
		t.Fatalf("after a second failure the next batch is %v, want 3 alone", got)
	}
	if batch, _ = tt.take(); len(batch) != 0 {
		t.Fatalf("a delivered batch came back: %v", sessionIDs(batch))
	}
}
