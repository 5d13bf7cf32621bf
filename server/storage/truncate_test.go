package storage

import "testing"

// TestReopenAfterTailTruncation: raft clears a log suffix when a new leader's
// log conflicts with a follower's (DeleteRange through the last index).
// raft-wal v0.4.0 seals the truncated segment without writing its index
// block (hashicorp/raft-wal#31, fixed upstream after v0.4.0), so the next
// open could not read any entry of that segment and raft panicked at start.
// Open must write the missing index and read every entry back.
func TestReopenAfterTailTruncation(t *testing.T) {
	for _, crashed := range []bool{false, true} {
		dir := t.TempDir()
		s := mustOpen(t, dir)
		write(t, s, 1, 20, 4, 100)
		if err := s.Log.DeleteRange(15, 20); err != nil {
			t.Fatalf("truncate tail: %v", err)
		}
		write(t, s, 15, 10, 3, 100)
		checkAll(t, s, 1, 24, 100)
		if crashed {
			crash(s)
		} else if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, dir)
		checkAll(t, s, 1, 24, 100)
		write(t, s, 25, 5, 2, 100)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// A second open finds the repaired segment verified and unchanged.
		s = mustOpen(t, dir)
		checkAll(t, s, 1, 29, 100)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
