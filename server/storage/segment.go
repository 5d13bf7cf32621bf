package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// This file reads raft-wal v0.4.0's segment files on its own, to verify what
// raft-wal's recovery does not: raft-wal checks the checksum of the last batch
// only, and takes a frame header it cannot decode for the end of the log. The
// layout (raft-wal segment/format.go):
//
//	file header, 32 bytes: magic u32 | 3 reserved | version u8 | BaseIndex u64 | SegmentID u64 | Codec u64
//	frames, each an 8-byte header and a payload padded to 8 bytes:
//	  type u8 (1 entry, 2 index, 3 commit) | 3 reserved (zero) | u32 length (commit: CRC)
//
// A batch is the run of frames one append wrote, ended by a commit frame whose
// CRC-32C covers every byte since the previous commit frame (the first batch
// also covers the file header). Integers are little-endian.
const (
	segFileHeaderLen  = 32
	segFrameHeaderLen = 8
	segMagic          = 0x58eb6b0d
	segVersion        = 0

	frameEntry  = 1
	frameIndex  = 2
	frameCommit = 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentHeader is a segment file's header.
type segmentHeader struct {
	BaseIndex, ID, Codec uint64
}

func readSegmentHeader(buf []byte) (segmentHeader, bool) {
	if len(buf) < segFileHeaderLen || binary.LittleEndian.Uint32(buf[0:4]) != segMagic ||
		buf[4]|buf[5]|buf[6] != 0 || buf[7] != segVersion {
		return segmentHeader{}, false
	}
	return segmentHeader{
		BaseIndex: binary.LittleEndian.Uint64(buf[8:16]),
		ID:        binary.LittleEndian.Uint64(buf[16:24]),
		Codec:     binary.LittleEndian.Uint64(buf[24:32]),
	}, true
}

// framePad is the padding after a payload of n bytes.
func framePad(n uint32) int64 { return int64((8 - n%8) % 8) }

// entryFrame locates one log entry's frame in a segment file.
type entryFrame struct {
	Offset int64  // of the frame header
	Len    uint32 // payload bytes
}

// segmentWalk is what a walk through a segment's frames found.
type segmentWalk struct {
	// Entries are the entry frames inside batches whose checksum verified.
	Entries []entryFrame
	// IndexOffset is where a verified index frame's array starts (0: none).
	IndexOffset int64
	// IndexLen is that array's length in bytes.
	IndexLen uint32
	// CommittedEnd is the offset just past the last verified commit frame
	// (0: no verified batch).
	CommittedEnd int64
	// Stop is where the walk stopped, and Why says what it found there.
	Stop int64
	Why  string
	// DataEnd is the offset just past the last non-zero byte of the file.
	DataEnd int64
}

// clean reports whether the walk ended at zeros right after the last batch.
func (w *segmentWalk) clean() bool { return w.DataEnd <= w.CommittedEnd }

// walkSegment reads the frames of a segment file image from the start, batch
// by batch, until a batch does not verify or the data ends.
func walkSegment(buf []byte) *segmentWalk {
	w := &segmentWalk{DataEnd: dataEnd(buf)}
	var pending []entryFrame
	var pendingIndex int64
	var pendingIndexLen uint32
	batchStart := int64(0)
	off := int64(segFileHeaderLen)
	size := int64(len(buf))
	for {
		if off+segFrameHeaderLen > size {
			w.Stop, w.Why = off, "end of file"
			break
		}
		h := buf[off : off+segFrameHeaderLen]
		typ, v := h[0], binary.LittleEndian.Uint32(h[4:8])
		if typ == 0 && allZero(h) {
			w.Stop, w.Why = off, "end of data"
			break
		}
		if typ == 0 || typ > frameCommit || h[1]|h[2]|h[3] != 0 {
			w.Stop, w.Why = off, fmt.Sprintf("undecodable frame header % x", h)
			break
		}
		if typ == frameCommit {
			if got := crc32.Checksum(buf[batchStart:off], castagnoli); got != v {
				w.Stop = batchStart
				w.Why = fmt.Sprintf("the batch at offsets %d-%d fails its checksum (stored %08x, computed %08x)",
					batchStart, off+segFrameHeaderLen, v, got)
				break
			}
			w.Entries = append(w.Entries, pending...)
			pending = pending[:0]
			if pendingIndex > 0 {
				w.IndexOffset, w.IndexLen = pendingIndex, pendingIndexLen
			}
			off += segFrameHeaderLen
			w.CommittedEnd, batchStart = off, off
			continue
		}
		end := off + segFrameHeaderLen + int64(v) + framePad(v)
		if end > size {
			w.Stop, w.Why = off, fmt.Sprintf("a frame of %d bytes runs past the end of the file (%d bytes)", v, size)
			break
		}
		if typ == frameEntry {
			pending = append(pending, entryFrame{Offset: off, Len: v})
		} else {
			pendingIndex, pendingIndexLen = off+segFrameHeaderLen, v
		}
		off = end
	}
	if w.Stop > w.CommittedEnd && w.Why == "end of data" {
		// Frames after the last commit, then zeros: an append cut short.
		w.Stop = w.CommittedEnd
	}
	return w
}

// findBatch returns the offset of the first complete, verified batch that
// starts at or after from: proof that the data beyond a stop point is not a
// torn last write but later, committed batches.
func findBatch(buf []byte, from int64) (int64, bool) {
	start := (from + 7) &^ 7
	for p := start; p+segFrameHeaderLen <= int64(len(buf)); p += 8 {
		if buf[p] == frameEntry && isBatchAt(buf, p) {
			return p, true
		}
	}
	return 0, false
}

// isBatchAt reports whether well-formed frames start at p and run to a commit
// frame whose checksum covers exactly them.
func isBatchAt(buf []byte, p int64) bool {
	size := int64(len(buf))
	off := p
	for entries := 0; off+segFrameHeaderLen <= size; {
		h := buf[off : off+segFrameHeaderLen]
		typ, v := h[0], binary.LittleEndian.Uint32(h[4:8])
		if h[1]|h[2]|h[3] != 0 {
			return false
		}
		switch typ {
		case frameCommit:
			return entries > 0 && crc32.Checksum(buf[p:off], castagnoli) == v
		case frameEntry, frameIndex:
			end := off + segFrameHeaderLen + int64(v) + framePad(v)
			if end > size {
				return false
			}
			if typ == frameEntry {
				entries++
			}
			off = end
		default:
			return false
		}
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// dataEnd returns the offset just past the last non-zero byte of buf.
func dataEnd(buf []byte) int64 {
	end := len(buf)
	// Trim whole zero words first; preallocated segments are mostly zeros.
	for end >= 8 && binary.LittleEndian.Uint64(buf[end-8:end]) == 0 {
		end -= 8
	}
	trimmed := bytes.TrimRight(buf[:end], "\x00")
	return int64(len(trimmed))
}

// entryFrames lists the entry frames of a segment image by their headers
// alone, checksums unchecked: it locates an entry already known damaged.
func entryFrames(buf []byte) []entryFrame {
	var out []entryFrame
	size := int64(len(buf))
	for off := int64(segFileHeaderLen); off+segFrameHeaderLen <= size; {
		h := buf[off : off+segFrameHeaderLen]
		typ, v := h[0], binary.LittleEndian.Uint32(h[4:8])
		switch typ {
		case frameCommit:
			off += segFrameHeaderLen
		case frameEntry, frameIndex:
			if typ == frameEntry {
				out = append(out, entryFrame{Offset: off, Len: v})
			}
			off += segFrameHeaderLen + int64(v) + framePad(v)
		default:
			return out
		}
	}
	return out
}
