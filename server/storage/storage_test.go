package storage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/metadb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testSegment is small so that a few hundred entries span several segments.
const testSegment = 64 << 10

func openStore(t *testing.T, dir string, mod ...func(*Options)) (*Store, error) {
	t.Helper()
	o := Options{Dir: dir, SegmentSize: testSegment}
	for _, m := range mod {
		m(&o)
	}
	return Open(o)
}

func mustOpen(t *testing.T, dir string, mod ...func(*Options)) *Store {
	t.Helper()
	s, err := openStore(t, dir, mod...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func payload(idx uint64, size int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("entry %d;", idx)), size/8+1)[:size]
}

// write appends entries from..from+n-1 in batches of batch entries.
func write(t *testing.T, s *Store, from uint64, n, batch, size int) {
	t.Helper()
	for i := 0; i < n; i += batch {
		var logs []*raft.Log
		for j := i; j < min(i+batch, n); j++ {
			idx := from + uint64(j)
			logs = append(logs, &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: payload(idx, size),
				AppendedAt: time.Unix(1700000000, int64(idx))})
		}
		if err := s.Log.StoreLogs(logs); err != nil {
			t.Fatalf("store %d..: %v", logs[0].Index, err)
		}
	}
}

// checkAll reads back every entry first..last and compares it.
func checkAll(t *testing.T, s *Store, first, last uint64, size int) {
	t.Helper()
	if f, _ := s.Log.FirstIndex(); f != first {
		t.Fatalf("first index %d, want %d", f, first)
	}
	if l, _ := s.Log.LastIndex(); l != last {
		t.Fatalf("last index %d, want %d", l, last)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := s.Log.GetLog(i, &l); err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		if !bytes.Equal(l.Data, payload(i, size)) || l.Extensions != nil || l.Term != 1 {
			t.Fatalf("entry %d read back wrong: %q ext=%v", i, l.Data[:min(len(l.Data), 20)], l.Extensions)
		}
	}
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "raft", "wal", "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func flip(t *testing.T, path string, off int64, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < int64(n); i++ {
		b[off+i] ^= 0xa5
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// frames returns the entry frames of a segment file.
func frames(t *testing.T, path string) (*segmentWalk, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return walkSegment(b), b
}

// crash closes s without the clean-stop record, as a crash leaves the disk.
func crash(s *Store) {
	s.log.interrupt()
	s.log.current().Close()
	s.meta.Close()
}

func wantDamage(t *testing.T, err error, file string, atOrBefore int64) *DamageError {
	t.Helper()
	if err == nil {
		t.Fatal("opened a damaged log")
	}
	var de *DamageError
	if !errors.Is(err, ErrDamaged) || !errors.As(err, &de) {
		t.Fatalf("error %v is not a DamageError", err)
	}
	if file != "" && de.File != file {
		t.Fatalf("damage reported in %s, want %s: %v", de.File, file, err)
	}
	if atOrBefore >= 0 && (de.Offset < 0 || de.Offset > atOrBefore) {
		t.Fatalf("damage reported at offset %d, want <= %d: %v", de.Offset, atOrBefore, err)
	}
	t.Logf("refused: %v", err)
	return de
}

const (
	nEntries = 300
	batch    = 10
	size     = 600
)

// fill writes nEntries in batches over several segments and closes cleanly.
func fill(t *testing.T) (dir string, tail string) {
	t.Helper()
	dir = t.TempDir()
	s := mustOpen(t, dir)
	write(t, s, 1, nEntries, batch, size)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, dir)
	if len(segs) < 3 {
		t.Fatalf("want several segments, got %v", segs)
	}
	return dir, segs[len(segs)-1]
}

func TestCleanRoundTrip(t *testing.T) {
	dir, _ := fill(t)
	s := mustOpen(t, dir)
	defer s.Close()
	checkAll(t, s, 1, nEntries, size)
	write(t, s, nEntries+1, 5, 5, size)
	checkAll(t, s, 1, nEntries+5, size)
}

// TestDamageInNewestSegment flips bytes inside entry data, inside a frame
// header and inside a commit frame in the middle of the newest segment:
// every one must refuse to start, naming the segment and an offset at or
// before the damage.
func TestDamageInNewestSegment(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   func(w *segmentWalk) (int64, int)
	}{
		{"entry data", func(w *segmentWalk) (int64, int) { e := w.Entries[len(w.Entries)/2]; return e.Offset + 8 + 100, 8 }},
		{"bytes just before the data", func(w *segmentWalk) (int64, int) { e := w.Entries[len(w.Entries)/2]; return e.Offset + 4, 8 }},
		{"frame type byte", func(w *segmentWalk) (int64, int) { e := w.Entries[len(w.Entries)/2]; return e.Offset, 1 }},
		{"frame length", func(w *segmentWalk) (int64, int) { e := w.Entries[len(w.Entries)/2]; return e.Offset + 5, 1 }},
		{"commit frame", func(w *segmentWalk) (int64, int) {
			e := w.Entries[batch-1] // last entry of a full batch; its commit follows
			return e.Offset + 8 + int64(e.Len) + framePad(e.Len) + 4, 2
		}},
		{"file header", func(*segmentWalk) (int64, int) { return 9, 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, tail := fill(t)
			w, _ := frames(t, tail)
			if len(w.Entries) < 3*batch {
				t.Fatalf("tail holds only %d entries", len(w.Entries))
			}
			off, n := tc.at(w)
			flip(t, tail, off, n)
			_, err := openStore(t, dir)
			wantDamage(t, err, tail, off)
		})
	}
}

// TestDamageInLastBatch: after a clean stop even the last batch may not go
// missing; after a crash the same damage is a torn write and is cut.
func TestDamageInLastBatch(t *testing.T) {
	t.Run("after a clean stop", func(t *testing.T) {
		dir, tail := fill(t)
		w, _ := frames(t, tail)
		e := w.Entries[len(w.Entries)-1]
		flip(t, tail, e.Offset+8+10, 8)
		_, err := openStore(t, dir)
		de := wantDamage(t, err, tail, -1)
		if de.Index != nEntries-batch+1 {
			t.Fatalf("first lost index %d, want %d", de.Index, nEntries-batch+1)
		}
	})
	t.Run("after a crash", func(t *testing.T) {
		dir := t.TempDir()
		s := mustOpen(t, dir)
		write(t, s, 1, nEntries, batch, size)
		crash(s)
		segs := segments(t, dir)
		tail := segs[len(segs)-1]
		w, _ := frames(t, tail)
		e := w.Entries[len(w.Entries)-1]
		flip(t, tail, e.Offset+8+10, 8)
		s = mustOpen(t, dir)
		checkAll(t, s, 1, nEntries-batch, size)
		// The cut is zeroed, and new writes follow it.
		write(t, s, nEntries-batch+1, batch, batch, size)
		s.Close()
		s = mustOpen(t, dir)
		checkAll(t, s, 1, nEntries, size)
		s.Close()
	})
}

// TestTornTailAfterCrash appends half a batch past the last commit, as a
// crash mid-append leaves it: Open cuts it and keeps every committed entry.
func TestTornTailAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	write(t, s, 1, nEntries, batch, size)
	crash(s)
	segs := segments(t, dir)
	tail := segs[len(segs)-1]
	w, b := frames(t, tail)
	// Copy the last batch's first frames (not its commit) after the end.
	last := w.Entries[len(w.Entries)-batch]
	torn := append([]byte(nil), b[last.Offset:last.Offset+3*int64(8+size+int(framePad(size)))]...)
	copy(b[w.CommittedEnd:], torn)
	if err := os.WriteFile(tail, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir)
	checkAll(t, s, 1, nEntries, size)
	s.Close()
	if w2, _ := frames(t, tail); w2.DataEnd != w.CommittedEnd {
		t.Fatalf("torn bytes not cut: data ends at %d, commit at %d", w2.DataEnd, w.CommittedEnd)
	}
}

func TestDamageInSealedSegment(t *testing.T) {
	dir, _ := fill(t)
	first := segments(t, dir)[0]
	w, _ := frames(t, first)
	e := w.Entries[len(w.Entries)-1] // even the last batch: sealed segments have no torn tail
	flip(t, first, e.Offset+8+3, 8)
	_, err := openStore(t, dir)
	wantDamage(t, err, first, e.Offset+8+3)
}

func TestTruncatedSegment(t *testing.T) {
	for _, which := range []string{"newest", "sealed"} {
		t.Run(which, func(t *testing.T) {
			dir, tail := fill(t)
			path := tail
			if which == "sealed" {
				path = segments(t, dir)[1]
			}
			w, _ := frames(t, path)
			cut := w.Entries[len(w.Entries)/2].Offset + 77
			if err := os.Truncate(path, cut); err != nil {
				t.Fatal(err)
			}
			_, err := openStore(t, dir)
			wantDamage(t, err, path, -1)
		})
	}
}

func TestMissingSealedSegment(t *testing.T) {
	dir, _ := fill(t)
	if err := os.Remove(segments(t, dir)[1]); err != nil {
		t.Fatal(err)
	}
	_, err := openStore(t, dir)
	wantDamage(t, err, "", -1)
}

// TestRandomFlips flips 16 random bytes anywhere in the newest segment's
// written part, many times over: each run must refuse to start or read back
// every entry exactly — never a silent loss.
func TestRandomFlips(t *testing.T) {
	refused, recovered := 0, 0
	for seed := int64(1); seed <= 12; seed++ {
		dir, tail := fill(t)
		w, b := frames(t, tail)
		rng := newRand(seed)
		for i := 0; i < 16; i++ {
			// Mostly inside the data, sometimes in the zeros after it.
			off := int64(rng.next() % uint64(w.DataEnd+64))
			b[off] ^= byte(1 + rng.next()%255)
		}
		if err := os.WriteFile(tail, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := openStore(t, dir)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("seed %d: %v", seed, err)
			}
			refused++
			continue
		}
		checkAll(t, s, 1, nEntries, size)
		s.Close()
		recovered++
	}
	t.Logf("16 random flips: %d refused, %d recovered whole", refused, recovered)
}

type xorshift struct{ s uint64 }

func newRand(seed int64) *xorshift { return &xorshift{uint64(seed)*0x9e3779b97f4a7c15 | 1} }
func (x *xorshift) next() uint64 {
	x.s ^= x.s << 13
	x.s ^= x.s >> 7
	x.s ^= x.s << 17
	return x.s
}

// TestDamageFoundAtRead damages an entry after the log was opened: the read
// fails with the file and offset, instead of returning wrong bytes.
func TestDamageFoundAtRead(t *testing.T) {
	dir, _ := fill(t)
	s := mustOpen(t, dir)
	defer s.Close()
	first := segments(t, dir)[0]
	w, _ := frames(t, first)
	e := w.Entries[3]
	flip(t, first, e.Offset+8+int64(e.Len)-40, 4)
	var l raft.Log
	err := s.Log.GetLog(4, &l)
	de := wantDamage(t, err, first, e.Offset)
	if de.Index != 4 || de.Offset != e.Offset {
		t.Fatalf("damage at index %d offset %d, want 4 at %d", de.Index, de.Offset, e.Offset)
	}
	if err := s.Log.GetLog(5, &l); err != nil {
		t.Fatalf("undamaged entry: %v", err)
	}
}

// TestInterruptedRotation acts out a full disk that failed the metadata
// commit of a segment rotation (raft-wal then takes every later write for a
// write to a sealed segment, even after a restart): Open must complete the
// rotation, keep every entry and accept writes.
func TestInterruptedRotation(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	var last uint64
	sealedOnDisk := func() int {
		n := 0
		for _, f := range segments(t, dir) {
			if w, _ := frames(t, f); w.IndexOffset > 0 {
				n++
			}
		}
		return n
	}
	for k := 0; sealedOnDisk() == 0; k++ {
		if k == 100 {
			t.Fatal("no segment sealed")
		}
		write(t, s, last+1, batch, batch, size)
		last += batch
	}
	// The rotation runs in the background; stop as if it failed: if its
	// metadata commit happened, undo it.
	crash(s)
	walDir := filepath.Join(dir, "raft", "wal")
	var m metadb.BoltMetaDB
	st, err := m.Load(walDir)
	if err != nil {
		t.Fatal(err)
	}
	if segs := st.Segments; !segs[len(segs)-1].SealTime.IsZero() || segs[len(segs)-1].BaseIndex == last+1 {
		if segs[len(segs)-1].BaseIndex == last+1 {
			_ = os.Remove(filepath.Join(walDir, segmentFileName(segs[len(segs)-1])))
			segs = segs[:len(segs)-1]
		}
		sealed := &segs[len(segs)-1]
		sealed.SealTime, sealed.MaxIndex, sealed.IndexStart = time.Time{}, 0, 0
		st.Segments = segs
		if err := m.CommitState(st); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()

	s = mustOpen(t, dir)
	checkAll(t, s, 1, last, size)
	write(t, s, last+1, 2*batch, batch, size)
	s.Close()
	s = mustOpen(t, dir)
	checkAll(t, s, 1, last+2*batch, size)
	s.Close()
}
