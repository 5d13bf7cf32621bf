// Package backup is the framing of a herd backup: a consistent state machine
// snapshot streamed by a running node ("snap" on the client port) and kept
// as a file by `herd snapshot save`, then read by `herd snapshot restore`.
//
// The stream is the magic "HERDBAK1", then chunks of the snapshot, each a
// 4-byte big-endian length and that many bytes, then a zero length and the
// SHA-256 of all chunk bytes. A stream cut short (a node that died while
// sending, a full disk) lacks the terminator or fails the sum, so a partial
// backup is never taken for a whole one.
package backup

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Magic starts every backup.
const Magic = "HERDBAK1"

// maxChunk bounds one chunk; the writer sends at most chunkSize.
const (
	chunkSize = 256 << 10
	maxChunk  = 16 << 20
)

// ErrBadBackup is wrapped by every error about a damaged or foreign backup.
var ErrBadBackup = errors.New("backup: bad backup")

// Writer frames what is written to it; Close writes the terminator.
type Writer struct {
	w   *bufio.Writer
	sum hash.Hash
	buf []byte
	err error
}

// NewWriter starts a backup on w (writing the magic).
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, chunkSize+4)
	_, err := bw.WriteString(Magic)
	return &Writer{w: bw, sum: sha256.New(), buf: make([]byte, 0, chunkSize), err: err}
}

// Write buffers p into chunks.
func (b *Writer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && b.err == nil {
		k := min(len(p), chunkSize-len(b.buf))
		b.buf = append(b.buf, p[:k]...)
		p = p[k:]
		if len(b.buf) == chunkSize {
			b.flushChunk()
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	return n, nil
}

func (b *Writer) flushChunk() {
	if len(b.buf) == 0 || b.err != nil {
		return
	}
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(b.buf)))
	b.sum.Write(b.buf)
	if _, err := b.w.Write(l[:]); err != nil {
		b.err = err
		return
	}
	if _, err := b.w.Write(b.buf); err != nil {
		b.err = err
	}
	b.buf = b.buf[:0]
}

// Close writes the last chunk, the terminator and the checksum. It does not
// close the underlying writer.
func (b *Writer) Close() error {
	b.flushChunk()
	if b.err != nil {
		return b.err
	}
	var zero [4]byte
	b.w.Write(zero[:])
	b.w.Write(b.sum.Sum(nil))
	return b.w.Flush()
}

// Read checks a whole backup from r and copies the snapshot inside it to w,
// returning its length. w receives bytes before the checksum is known: the
// caller must discard them when Read fails.
func Read(r io.Reader, w io.Writer) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(Magic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != Magic {
		return 0, fmt.Errorf("%w: not a herd backup (no %s header)", ErrBadBackup, Magic)
	}
	sum := sha256.New()
	ew := &errWriter{w: w}
	out := io.MultiWriter(ew, sum)
	var total int64
	for {
		var l [4]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return total, fmt.Errorf("%w: cut short after %d bytes: %v", ErrBadBackup, total, err)
		}
		n := binary.BigEndian.Uint32(l[:])
		if n == 0 {
			break
		}
		if n > maxChunk {
			return total, fmt.Errorf("%w: chunk of %d bytes", ErrBadBackup, n)
		}
		if _, err := io.CopyN(out, br, int64(n)); err != nil {
			if ew.err != nil {
				return total, fmt.Errorf("backup: %w", ew.err) // the consumer's failure, not the backup's
			}
			return total, fmt.Errorf("%w: cut short after %d bytes: %v", ErrBadBackup, total, err)
		}
		total += int64(n)
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(br, want); err != nil {
		return total, fmt.Errorf("%w: no checksum: %v", ErrBadBackup, err)
	}
	if string(want) != string(sum.Sum(nil)) {
		return total, fmt.Errorf("%w: checksum mismatch", ErrBadBackup)
	}
	return total, nil
}

// errWriter remembers its writer's error, to tell it from a read error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
