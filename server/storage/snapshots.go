package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/raft"
)

// The snapshots are raft's FileSnapshotStore's: Dir/raft/snapshots/<id>/ with
// meta.json (the metadata and a CRC-64 of the state) and state.bin. Damaged
// snapshots are moved to Dir/raft/damaged-snapshots/<id>, kept for the
// operator, out of raft's sight.
const (
	snapshotsDir        = "snapshots"
	damagedSnapshotsDir = "damaged-snapshots"
	snapshotMetaFile    = "meta.json"
	snapshotStateFile   = "state.bin"
)

// SnapshotReport is what verification found in one snapshot.
type SnapshotReport struct {
	// ID is the snapshot's directory name.
	ID string
	// Dir is its directory.
	Dir string
	// Index and Term are the last log entry it covers (from its metadata,
	// or its name when the metadata is unreadable).
	Index, Term uint64
	// Size is the state's size in bytes.
	Size int64
	// Err is why it cannot be restored; nil when it verifies (or was not
	// checked, see verifySnapshots).
	Err error

	crc        []byte // from the metadata
	unverified bool   // state not checked: a newer snapshot verified
}

// verifySnapshots checks the snapshots under snapRoot (Dir/raft), newest
// first, as raft orders them. With all false it reads the metadata of every
// one but checks the state only up to the first that verifies: the older
// ones matter only if that one fails, and raft checks each CRC again as it
// opens it (1M znodes: 130 MB more read at every start for a fallback never
// taken). Check passes all.
func verifySnapshots(snapRoot string, all bool) ([]SnapshotReport, error) {
	dir := filepath.Join(snapRoot, snapshotsDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: list snapshots: %w", err)
	}
	var out []SnapshotReport
	for _, e := range ents {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		out = append(out, readSnapshotMeta(filepath.Join(dir, e.Name())))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Term != b.Term {
			return a.Term > b.Term
		}
		if a.Index != b.Index {
			return a.Index > b.Index
		}
		return a.ID > b.ID
	})
	found := false
	for i := range out {
		if out[i].Err != nil {
			continue
		}
		if found && !all {
			out[i].unverified = true
			continue
		}
		checkSnapshotState(&out[i])
		found = found || out[i].Err == nil
	}
	return out, nil
}

// readSnapshotMeta reads a snapshot's metadata; Err is set if it is missing
// or does not parse.
func readSnapshotMeta(dir string) SnapshotReport {
	r := SnapshotReport{ID: filepath.Base(dir), Dir: dir}
	// FileSnapshotStore names snapshots term-index-millis.
	if parts := strings.SplitN(r.ID, "-", 3); len(parts) == 3 {
		r.Term, _ = strconv.ParseUint(parts[0], 10, 64)
		r.Index, _ = strconv.ParseUint(parts[1], 10, 64)
	}
	metaPath := filepath.Join(dir, snapshotMetaFile)
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		r.Err = fmt.Errorf("%w: %s: %v", ErrDamaged, metaPath, err)
		return r
	}
	var meta struct {
		raft.SnapshotMeta
		CRC []byte
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		r.Err = &DamageError{File: metaPath, Offset: -1, Reason: "snapshot metadata does not parse: " + err.Error()}
		return r
	}
	r.Index, r.Term, r.Size = meta.Index, meta.Term, meta.Size
	r.crc = meta.CRC
	return r
}

// checkSnapshotState checks the state file against its metadata's size and
// CRC-64; Err is set if it does not match.
func checkSnapshotState(r *SnapshotReport) {
	statePath := filepath.Join(r.Dir, snapshotStateFile)
	f, err := os.Open(statePath)
	if err != nil {
		r.Err = fmt.Errorf("%w: %s: %v", ErrDamaged, statePath, err)
		return
	}
	defer f.Close()
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	n, err := io.Copy(h, f)
	switch {
	case err != nil:
		r.Err = fmt.Errorf("storage: read snapshot %s: %w", statePath, err)
	case n != r.Size:
		r.Err = &DamageError{File: statePath, Offset: n, Reason: fmt.Sprintf("snapshot state is %d bytes, its metadata says %d: truncated", n, r.Size)}
	case string(h.Sum(nil)) != string(r.crc):
		r.Err = &DamageError{File: statePath, Offset: -1, Reason: "snapshot state fails its CRC-64"}
	}
}

// snapshotPlan is what opening decides about the snapshots.
type snapshotPlan struct {
	// usable is the newest snapshot that verifies (nil: none).
	usable *SnapshotReport
	// damaged are the snapshots to move aside.
	damaged []SnapshotReport
}

// planSnapshots picks the snapshot raft will restore and checks that it plus
// the log (entries first..last) hold everything the damaged newer ones held.
// Falling back is refused when the log does not reach back far enough.
func planSnapshots(snaps []SnapshotReport, first, last uint64) (snapshotPlan, error) {
	var p snapshotPlan
	var newestDamaged *SnapshotReport
	for i := range snaps {
		s := &snaps[i]
		if s.Err != nil {
			p.damaged = append(p.damaged, *s)
			if p.usable == nil && newestDamaged == nil {
				newestDamaged = s
			}
			continue
		}
		if p.usable == nil {
			p.usable = s
		}
	}
	base := uint64(0) // the index the state is restored at
	if p.usable != nil {
		base = p.usable.Index
	}
	logEmpty := first == 0 && last == 0
	if !logEmpty && first > base+1 {
		what := "no snapshot"
		if p.usable != nil {
			what = fmt.Sprintf("snapshot %s ends at index %d", p.usable.ID, base)
		}
		dir := ""
		if newestDamaged != nil {
			dir = newestDamaged.Dir
			what = fmt.Sprintf("snapshot %s is damaged (%v) and %s", newestDamaged.ID, newestDamaged.Err, what)
		}
		return p, &DamageError{File: dir, Offset: -1, Reason: fmt.Sprintf(
			"%s, but the log starts at index %d: entries %d-%d exist nowhere", what, first, base+1, first-1)}
	}
	if newestDamaged != nil && max(last, base) < newestDamaged.Index {
		return p, &DamageError{File: newestDamaged.Dir, Offset: -1, Reason: fmt.Sprintf(
			"snapshot is damaged (%v) and the state before it plus the log reach only index %d of its %d",
			newestDamaged.Err, max(last, base), newestDamaged.Index)}
	}
	return p, nil
}

// moveAside moves a damaged snapshot out of raft's snapshot directory.
func moveAside(snapRoot string, s SnapshotReport) (string, error) {
	dst := filepath.Join(snapRoot, damagedSnapshotsDir)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	to := filepath.Join(dst, s.ID)
	if _, err := os.Stat(to); err == nil {
		to += ".again"
	}
	return to, os.Rename(s.Dir, to)
}
