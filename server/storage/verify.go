package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/types"
)

// ErrDamaged is wrapped by every error about damaged stored state: a log
// entry or batch that fails its checksum, a truncated or missing file, a
// snapshot that fails its checksum with no log to fall back on.
var ErrDamaged = errors.New("storage: damaged")

// DamageError names where stored state is damaged.
type DamageError struct {
	// File is the damaged file.
	File string
	// Offset is the byte offset in File where the damage starts (-1: unknown).
	Offset int64
	// Index is the log index concerned, when one is (0: none).
	Index uint64
	// Reason says what was found.
	Reason string
}

func (e *DamageError) Error() string {
	msg := "storage: damaged: " + e.File
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" at offset %d", e.Offset)
	}
	if e.Index > 0 {
		msg += fmt.Sprintf(" (log index %d)", e.Index)
	}
	return msg + ": " + e.Reason
}

// Is makes a DamageError match ErrDamaged.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

// SegmentReport is what verification found in one log segment file.
type SegmentReport struct {
	// File is the segment file's path.
	File string
	// Sealed reports a full segment (only the last, the tail, is not).
	Sealed bool
	// FirstIndex and LastIndex are the log entries it holds (0 when none).
	FirstIndex, LastIndex uint64
	// TornAt and TornBytes describe bytes after the last complete batch of
	// the tail: an append cut short by a crash. They were never acknowledged
	// and are cut (zeroed) when the node opens its log.
	TornAt, TornBytes int64
	// Unchecksummed counts entries written before herd checksummed entries.
	Unchecksummed int
	// SealedUnrecorded reports a tail segment that was sealed on disk but
	// whose rotation never reached the metadata (a full disk mid-rotation);
	// opening the log completes the rotation.
	SealedUnrecorded bool
	// IndexMissing reports a sealed segment without its index block, which
	// raft-wal v0.4.0 leaves when it truncates the log's tail
	// (hashicorp/raft-wal#31) and then cannot read; opening the log writes
	// the index.
	IndexMissing bool
}

// LogReport is what verification found in a node's Raft log.
type LogReport struct {
	// Dir is the log directory.
	Dir string
	// Segments are the segment files, oldest first.
	Segments []SegmentReport
	// FirstIndex and LastIndex bound the entries the log holds (0 when empty).
	FirstIndex, LastIndex uint64
	// CleanStop is the last index recorded by a clean shutdown, if
	// HasCleanStop; a log that ends before it lost acknowledged entries.
	CleanStop    uint64
	HasCleanStop bool

	state types.PersistentState
}

// verifyOptions say what verifyLog holds the log against.
type verifyOptions struct {
	// checksumFrom is the first index that must carry a checksum (0: all).
	checksumFrom uint64
	// cleanStop, if set, is the last index of a clean shutdown.
	cleanStop    uint64
	hasCleanStop bool
}

// segmentFileName is raft-wal's name for a segment file.
func segmentFileName(si types.SegmentInfo) string {
	return fmt.Sprintf("%020d-%016x.wal", si.BaseIndex, si.ID)
}

// verifyLog reads every segment that the metadata lists and checks every
// batch checksum, every entry checksum and the segments' continuity. Damage
// anywhere before the tail's last batch is an error; a torn last batch is
// reported (and cut by repairLog).
func verifyLog(dir string, state types.PersistentState, opts verifyOptions) (*LogReport, error) {
	rep := &LogReport{Dir: dir, CleanStop: opts.cleanStop, HasCleanStop: opts.hasCleanStop, state: state}
	var codec wal.BinaryCodec
	var prev *types.SegmentInfo
	var tailStop int64 = -1
	var tailFile string
	for i := range state.Segments {
		si := state.Segments[i]
		path := filepath.Join(dir, segmentFileName(si))
		sealed := !si.SealTime.IsZero()
		sr := SegmentReport{File: path, Sealed: sealed}
		if sealed && i == len(state.Segments)-1 {
			return rep, &DamageError{File: path, Offset: -1, Reason: "the log metadata lists no open segment after this sealed one"}
		}
		if !sealed && i != len(state.Segments)-1 {
			return rep, &DamageError{File: path, Offset: -1, Reason: "an open segment is not the last one in the log metadata"}
		}
		if prev != nil && si.BaseIndex != prev.MaxIndex+1 {
			return rep, &DamageError{File: path, Offset: 0, Reason: fmt.Sprintf(
				"segment starts at index %d but the previous one ends at %d", si.BaseIndex, prev.MaxIndex)}
		}
		buf, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && !sealed {
			// A crash between recording a new tail and creating its file;
			// raft-wal creates it.
			rep.Segments = append(rep.Segments, sr)
			break
		}
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return rep, &DamageError{File: path, Offset: -1, Reason: "segment file is missing"}
			}
			return rep, fmt.Errorf("storage: read log segment: %w", err)
		}
		w := walkSegment(buf)
		entries := w.Entries
		if sealed || w.CommittedEnd > 0 {
			h, ok := readSegmentHeader(buf)
			if !ok || h.BaseIndex != si.BaseIndex || h.ID != si.ID || h.Codec != si.Codec {
				return rep, &DamageError{File: path, Offset: 0, Reason: "segment file header is damaged or does not match the log metadata"}
			}
		}
		if sealed {
			want := int(si.MaxIndex - si.BaseIndex + 1)
			if si.MaxIndex < si.BaseIndex {
				want = 0
			}
			if len(entries) < want {
				return rep, &DamageError{File: path, Offset: w.Stop, Index: si.BaseIndex + uint64(len(entries)),
					Reason: fmt.Sprintf("%s; this sealed segment should hold entries %d-%d but only %d verify",
						w.Why, si.BaseIndex, si.MaxIndex, len(entries))}
			}
			entries = entries[:want]
			if si.IndexStart != 0 {
				if err := checkIndexFrame(buf, w, si, entries, path); err != nil {
					return rep, err
				}
			} else {
				sr.IndexMissing = want > 0
			}
		} else {
			tailStop, tailFile = w.Stop, path
			if !w.clean() {
				if q, found := findBatch(buf, w.CommittedEnd); found {
					return rep, &DamageError{File: path, Offset: w.Stop, Index: si.BaseIndex + uint64(len(entries)),
						Reason: fmt.Sprintf("%s, yet a complete batch follows at offset %d: damage, not a torn last write", w.Why, q)}
				}
				sr.TornAt, sr.TornBytes = w.CommittedEnd, w.DataEnd-w.CommittedEnd
			}
			sr.SealedUnrecorded = w.IndexOffset > 0
		}
		if len(entries) > 0 && int64(len(buf)) < int64(si.SizeLimit) {
			return rep, &DamageError{File: path, Offset: int64(len(buf)), Reason: fmt.Sprintf(
				"segment file is %d bytes, shorter than the %d it was created with: truncated", len(buf), si.SizeLimit)}
		}
		for j, e := range entries {
			idx := si.BaseIndex + uint64(j)
			if idx < si.MinIndex {
				continue
			}
			var l raft.Log
			if err := codec.Decode(buf[e.Offset+segFrameHeaderLen:e.Offset+segFrameHeaderLen+int64(e.Len)], &l); err != nil {
				return rep, &DamageError{File: path, Offset: e.Offset, Index: idx, Reason: "entry does not decode: " + err.Error()}
			}
			if l.Index != idx {
				return rep, &DamageError{File: path, Offset: e.Offset, Index: idx, Reason: fmt.Sprintf("entry holds index %d", l.Index)}
			}
			switch err := verifyChecksum(&l); {
			case errors.Is(err, errNoChecksum) && idx < opts.checksumFrom:
				sr.Unchecksummed++
			case err != nil:
				return rep, &DamageError{File: path, Offset: e.Offset, Index: idx, Reason: err.Error()}
			}
			if sr.FirstIndex == 0 {
				sr.FirstIndex = idx
			}
			sr.LastIndex = idx
		}
		if sr.FirstIndex > 0 {
			if rep.FirstIndex == 0 {
				rep.FirstIndex = sr.FirstIndex
			}
			rep.LastIndex = sr.LastIndex
		}
		rep.Segments = append(rep.Segments, sr)
		prev = &state.Segments[i]
	}
	if opts.hasCleanStop && rep.LastIndex < opts.cleanStop {
		return rep, &DamageError{File: tailFile, Offset: tailStop, Index: rep.LastIndex + 1, Reason: fmt.Sprintf(
			"the log ends at index %d but the node stopped cleanly at index %d: acknowledged entries are lost",
			rep.LastIndex, opts.cleanStop)}
	}
	return rep, nil
}

// checkIndexFrame checks a sealed segment's on-disk index (which raft-wal
// reads entries through) against the entry frames found.
func checkIndexFrame(buf []byte, w *segmentWalk, si types.SegmentInfo, entries []entryFrame, path string) error {
	if int64(si.IndexStart) != w.IndexOffset || int(w.IndexLen) < 4*len(entries) {
		return &DamageError{File: path, Offset: int64(si.IndexStart), Reason: "the segment's index frame is missing or misplaced"}
	}
	for j, e := range entries {
		at := w.IndexOffset + 4*int64(j)
		if int64(binary.LittleEndian.Uint32(buf[at:at+4])) != e.Offset {
			return &DamageError{File: path, Offset: at, Index: si.BaseIndex + uint64(j), Reason: "the segment's index points to the wrong frame"}
		}
	}
	return nil
}

// repairLog cuts torn tails (zeroing them, so that no later scan mistakes
// them for data) and returns the metadata with any interrupted rotation
// completed. changed reports whether the metadata must be committed.
func repairLog(rep *LogReport, segmentSize int) (state types.PersistentState, changed bool, err error) {
	state = rep.state
	for i, sr := range rep.Segments {
		if sr.IndexMissing {
			indexStart, err := writeMissingIndex(sr.File, state.Segments[i])
			if err != nil {
				return state, false, fmt.Errorf("storage: write the missing index of %s: %w", sr.File, err)
			}
			segs := append([]types.SegmentInfo(nil), state.Segments...)
			segs[i].IndexStart = indexStart
			state = types.PersistentState{NextSegmentID: state.NextSegmentID, Segments: segs}
			changed = true
		}
		if sr.TornBytes > 0 {
			if err := zeroRange(sr.File, sr.TornAt, sr.TornBytes); err != nil {
				return state, false, fmt.Errorf("storage: cut torn tail of %s: %w", sr.File, err)
			}
		}
		if sr.SealedUnrecorded && i == len(state.Segments)-1 {
			// Do what raft-wal's rotation would have: record the seal and a
			// new tail after it. raft-wal creates the tail's file.
			segs := append([]types.SegmentInfo(nil), state.Segments...)
			tail := &segs[len(segs)-1]
			buf, err := os.ReadFile(sr.File)
			if err != nil {
				return state, false, fmt.Errorf("storage: complete rotation: %w", err)
			}
			w := walkSegment(buf)
			tail.SealTime = time.Now()
			tail.MaxIndex = tail.BaseIndex + uint64(len(w.Entries)) - 1
			tail.IndexStart = uint64(w.IndexOffset)
			next := types.SegmentInfo{
				ID: state.NextSegmentID, BaseIndex: tail.MaxIndex + 1, MinIndex: tail.MaxIndex + 1,
				Codec: tail.Codec, SizeLimit: uint32(segmentSize), CreateTime: tail.SealTime,
			}
			segs = append(segs, next)
			state = types.PersistentState{NextSegmentID: state.NextSegmentID + 1, Segments: segs}
			changed = true
		}
	}
	return state, changed, nil
}

// writeMissingIndex appends to a sealed segment the index block raft-wal
// would have written when sealing it (an index frame listing the offset of
// each entry's frame from BaseIndex to MaxIndex, then a commit frame), after
// its last verified batch, and returns the index's start for the metadata.
func writeMissingIndex(path string, si types.SegmentInfo) (uint64, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	w := walkSegment(buf)
	n := int(si.MaxIndex - si.BaseIndex + 1)
	if len(w.Entries) < n || w.CommittedEnd == 0 {
		return 0, fmt.Errorf("%d entries verify, %d needed", len(w.Entries), n)
	}
	if w.DataEnd > w.CommittedEnd {
		// Unverified bytes after the last batch are nothing the index needs.
		if err := zeroRange(path, w.CommittedEnd, w.DataEnd-w.CommittedEnd); err != nil {
			return 0, err
		}
	}
	payload := 4 * n
	block := make([]byte, segFrameHeaderLen+payload+int(framePad(uint32(payload)))+segFrameHeaderLen)
	block[0] = frameIndex
	binary.LittleEndian.PutUint32(block[4:8], uint32(payload))
	for j, e := range w.Entries[:n] {
		binary.LittleEndian.PutUint32(block[segFrameHeaderLen+4*j:], uint32(e.Offset))
	}
	commit := len(block) - segFrameHeaderLen
	block[commit] = frameCommit
	binary.LittleEndian.PutUint32(block[commit+4:], crc32.Checksum(block[:commit], castagnoli))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.WriteAt(block, w.CommittedEnd); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return uint64(w.CommittedEnd) + segFrameHeaderLen, nil
}

func zeroRange(path string, off, n int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	zeros := make([]byte, min(n, 1<<20))
	for done := int64(0); done < n; {
		k := min(n-done, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:k], off+done); err != nil {
			return err
		}
		done += k
	}
	return f.Sync()
}
