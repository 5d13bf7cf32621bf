package storage

import (
	"encoding/binary"
	"errors"
	"hash/crc32"

	"github.com/hashicorp/raft"
)

// Every entry herd stores carries a CRC-32C of its contents in raft's
// Log.Extensions, which raft reserves for log-store middleware: the checksum
// layer adds it on the way in and checks and removes it on the way out, so
// raft and the FSM never see it. Layout: checksumTag, checksumVersion, the CRC
// (4 bytes, little-endian), then the entry's own Extensions, if any.
const (
	checksumTag     = 0xc5
	checksumVersion = 1
	checksumLen     = 6
)

var (
	errNoChecksum  = errors.New("entry has no checksum")
	errBadChecksum = errors.New("entry fails its checksum")
)

// entryChecksum covers every field of l that raft-wal stores, with ext in
// place of l.Extensions.
func entryChecksum(l *raft.Log, ext []byte) uint32 {
	var hdr [8 + 8 + 1 + 8 + 8 + 8]byte
	binary.LittleEndian.PutUint64(hdr[0:], l.Index)
	binary.LittleEndian.PutUint64(hdr[8:], l.Term)
	hdr[16] = byte(l.Type)
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	binary.LittleEndian.PutUint64(hdr[17:], uint64(at))
	binary.LittleEndian.PutUint64(hdr[25:], uint64(len(l.Data)))
	binary.LittleEndian.PutUint64(hdr[33:], uint64(len(ext)))
	c := crc32.Update(0, castagnoli, hdr[:])
	c = crc32.Update(c, castagnoli, l.Data)
	return crc32.Update(c, castagnoli, ext)
}

// withChecksum returns a copy of l carrying its checksum; l is not changed
// (raft keeps using it for replication).
func withChecksum(l *raft.Log) *raft.Log {
	out := *l
	ext := make([]byte, checksumLen+len(l.Extensions))
	ext[0], ext[1] = checksumTag, checksumVersion
	binary.LittleEndian.PutUint32(ext[2:], entryChecksum(l, l.Extensions))
	copy(ext[checksumLen:], l.Extensions)
	out.Extensions = ext
	return &out
}

// verifyChecksum checks l's checksum and removes it from l.Extensions.
func verifyChecksum(l *raft.Log) error {
	ext := l.Extensions
	if len(ext) < checksumLen || ext[0] != checksumTag || ext[1] != checksumVersion {
		return errNoChecksum
	}
	orig := ext[checksumLen:]
	if len(orig) == 0 {
		orig = nil
	}
	if binary.LittleEndian.Uint32(ext[2:]) != entryChecksum(l, orig) {
		return errBadChecksum
	}
	l.Extensions = orig
	return nil
}
