package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every decoding error: truncated input, a length
// out of range, or a record that is not valid for its context.
var ErrMalformed = errors.New("proto: malformed record")

// Minimum encoded sizes, used to reject vector counts the remaining input cannot
// hold before allocating for them.
const (
	minStringSize     = 4     // length prefix of an empty ustring
	minACLSize        = 4 + 8 // perms + two empty ustrings
	minClientInfoSize = 8     // two empty ustrings
	statSize          = 8*6 + 4*5
)

// Decoder reads jute encodings from a byte slice. Errors are sticky: after the
// first failure every method returns a zero value and Err reports the failure,
// so records decode without checking each field.
type Decoder struct {
	b      []byte
	off    int
	maxLen int
	err    error
}

// NewDecoder returns a Decoder over b. maxLen caps every buffer, string and
// vector length (jute.maxbuffer); maxLen <= 0 means DefaultMaxBuffer.
func NewDecoder(b []byte, maxLen int) *Decoder {
	d := &Decoder{}
	d.Reset(b, maxLen)
	return d
}

// Reset points the Decoder at new input and clears its error, so one Decoder
// can be reused for every packet of a connection.
func (d *Decoder) Reset(b []byte, maxLen int) {
	if maxLen <= 0 {
		maxLen = DefaultMaxBuffer
	}
	*d = Decoder{b: b, maxLen: maxLen}
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// fail records the first error; later failures are consequences of it.
func (d *Decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

// take returns the next n bytes, or nil after recording a truncation error.
func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.Remaining() {
		d.fail("%s needs %d bytes at offset %d, %d left", what, n, d.off, d.Remaining())
		return nil
	}
	b := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// Int32 reads a big-endian jute int.
func (d *Decoder) Int32() int32 {
	b := d.take(4, "int")
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Int64 reads a big-endian jute long.
func (d *Decoder) Int64() int64 {
	b := d.take(8, "long")
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a jute boolean; any non-zero byte is true, as in Java.
func (d *Decoder) Bool() bool {
	b := d.take(1, "boolean")
	if b == nil {
		return false
	}
	return b[0] != 0
}

// length reads a length or count prefix. It returns -1 for null and otherwise a
// value in [0, maxLen] such that n*minSize bytes remain, so callers can allocate
// n elements without trusting the sender.
func (d *Decoder) length(what string, minSize int) int {
	n := d.Int32()
	if d.err != nil {
		return -1
	}
	switch {
	case n == -1:
		return -1
	case n < -1:
		d.fail("%s length %d", what, n)
	case int(n) > d.maxLen:
		d.fail("%s length %d exceeds max %d", what, n, d.maxLen)
	case int(n) > d.Remaining()/minSize:
		d.fail("%s length %d at offset %d, only %d bytes left", what, n, d.off, d.Remaining())
	default:
		return int(n)
	}
	return -1
}

// Buffer reads a jute buffer: null (-1) is nil, length 0 is an empty non-nil
// slice. The bytes are copied, so the result outlives the input.
func (d *Decoder) Buffer() []byte {
	v := d.BufferView()
	if v == nil {
		return nil
	}
	return append(make([]byte, 0, len(v)), v...)
}

// BufferView reads a jute buffer like Buffer, but returns a slice of the
// decoder's input rather than a copy: for a caller that decodes from it and
// keeps nothing (the state machine's request body, decoded once per apply).
func (d *Decoder) BufferView() []byte {
	n := d.length("buffer", 1)
	if n < 0 {
		return nil
	}
	out := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return out
}

// String reads a jute ustring; null (-1, which kazoo sends for "") is "".
// (This makes Decoder a fmt.Stringer: never format a Decoder with %v, as that
// would consume input.)
func (d *Decoder) String() string {
	n := d.length("string", 1)
	if n <= 0 {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}

// Strings reads a vector<ustring>; null (-1) is nil, count 0 an empty non-nil
// slice.
func (d *Decoder) Strings() []string {
	n := d.length("string vector", minStringSize)
	if n < 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.String()
	}
	if d.err != nil {
		return nil
	}
	return out
}

// ACLs reads a vector<ACL>; null (-1) is nil, count 0 an empty non-nil slice.
func (d *Decoder) ACLs() []ACL {
	n := d.length("ACL vector", minACLSize)
	if n < 0 {
		return nil
	}
	out := make([]ACL, n)
	for i := range out {
		out[i].Perms = d.Int32()
		out[i].ID.Scheme = d.aclString()
		out[i].ID.ID = d.aclString()
	}
	if d.err != nil {
		return nil
	}
	return out
}

// Stat reads the 68-byte Stat record.
func (d *Decoder) Stat() Stat {
	// Check the whole record up front so a truncated Stat is all zeros.
	if d.err == nil && d.Remaining() < statSize {
		d.fail("stat needs %d bytes at offset %d, %d left", statSize, d.off, d.Remaining())
	}
	if d.err != nil {
		return Stat{}
	}
	return Stat{
		Czxid:          d.Int64(),
		Mzxid:          d.Int64(),
		Ctime:          d.Int64(),
		Mtime:          d.Int64(),
		Version:        d.Int32(),
		Cversion:       d.Int32(),
		Aversion:       d.Int32(),
		EphemeralOwner: d.Int64(),
		DataLength:     d.Int32(),
		NumChildren:    d.Int32(),
		Pzxid:          d.Int64(),
	}
}

// aclString reads a ustring, returning a shared constant for the few values
// almost every ACL uses, so decoding them does not allocate.
func (d *Decoder) aclString() string {
	n := d.length("string", 1)
	if n <= 0 {
		return ""
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	for _, s := range commonACLStrings {
		if string(b) == s {
			return s
		}
	}
	return string(b)
}

var commonACLStrings = [...]string{"world", "anyone", "auth", "digest", "ip", "x509", "sasl"}
