package proto

import (
	"encoding/binary"
	"slices"
)

// Encoder appends jute encodings to a byte slice. The zero value is ready to use;
// Reset keeps the slice's capacity so one Encoder can serve a whole connection.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder that appends to buf[:0], reusing its capacity.
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf[:0]} }

// Bytes returns the encoded bytes. The slice aliases the Encoder's buffer and is
// valid until the next call that modifies the Encoder.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes encoded so far.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the Encoder, keeping its capacity.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Int32 appends a big-endian jute int.
func (e *Encoder) Int32(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }

// Int64 appends a big-endian jute long.
func (e *Encoder) Int64(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

// Bool appends a jute boolean as exactly 0 or 1 (kazoo only accepts 1 as true).
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Buffer appends a jute buffer; nil is encoded as length -1 (null), an empty
// non-nil slice as length 0.
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int32(-1)
		return
	}
	e.Int32(int32(len(b)))
	e.buf = append(e.buf, b...)
}

// String appends a jute ustring. The empty string is encoded as length 0 (not
// null), as the Java server does.
func (e *Encoder) String(s string) {
	e.Int32(int32(len(s)))
	e.buf = append(e.buf, s...)
}

// Strings appends a vector<ustring>; nil is encoded as count -1 (null).
func (e *Encoder) Strings(ss []string) {
	if ss == nil {
		e.Int32(-1)
		return
	}
	if cap(e.buf)-len(e.buf) < 4+4*len(ss) {
		e.growFor(ss)
	}
	e.Int32(int32(len(ss)))
	for _, s := range ss {
		e.String(s)
	}
}

// growFor makes room for ss at once. Appending a million names grew the
// buffer step by step, allocating about four times the reply (a getChildren
// of 1M children after a restart: 62 MB for a 17 MB reply).
func (e *Encoder) growFor(ss []string) {
	size := 4 + 4*len(ss)
	for _, s := range ss {
		size += len(s)
	}
	e.buf = slices.Grow(e.buf, size)
}

// ACLs appends a vector<ACL>; nil is encoded as count -1 (null).
func (e *Encoder) ACLs(acl []ACL) {
	if acl == nil {
		e.Int32(-1)
		return
	}
	e.Int32(int32(len(acl)))
	for i := range acl {
		e.Int32(acl[i].Perms)
		e.String(acl[i].ID.Scheme)
		e.String(acl[i].ID.ID)
	}
}

// Stat appends the 68-byte Stat record. Stat is never null on the wire, so a nil
// s is encoded as a zero Stat.
func (e *Encoder) Stat(s *Stat) {
	if s == nil {
		s = &Stat{}
	}
	e.Int64(s.Czxid)
	e.Int64(s.Mzxid)
	e.Int64(s.Ctime)
	e.Int64(s.Mtime)
	e.Int32(s.Version)
	e.Int32(s.Cversion)
	e.Int32(s.Aversion)
	e.Int64(s.EphemeralOwner)
	e.Int32(s.DataLength)
	e.Int32(s.NumChildren)
	e.Int64(s.Pzxid)
}

// StartFrame appends a placeholder length prefix and returns its offset; call
// EndFrame with that offset once the payload is encoded. This frames a packet in
// place, without copying the payload.
func (e *Encoder) StartFrame() int {
	start := len(e.buf)
	e.buf = append(e.buf, 0, 0, 0, 0)
	return start
}

// EndFrame patches the length prefix written by StartFrame at start to the
// number of bytes encoded after it.
func (e *Encoder) EndFrame(start int) {
	binary.BigEndian.PutUint32(e.buf[start:], uint32(len(e.buf)-start-4))
}
