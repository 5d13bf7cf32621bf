package integration

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/herd-io/herd/server/proto"
)

// errShort reports a record that ended before all its fields were read.
var errShort = errors.New("jute: record truncated")

// enc appends jute-encoded fields (big-endian, length-prefixed) to a buffer.
// The conformance suite builds requests with it so any byte sequence, valid or
// not, can be sent.
type enc struct{ b []byte }

func (e *enc) i32(v int32) { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }
func (e *enc) i64(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }

func (e *enc) boolean(v bool) {
	if v {
		e.b = append(e.b, 1)
		return
	}
	e.b = append(e.b, 0)
}

func (e *enc) str(s string) {
	e.i32(int32(len(s)))
	e.b = append(e.b, s...)
}

// buf writes nil as the null buffer (-1), which ZooKeeper keeps distinct from empty.
func (e *enc) buf(p []byte) {
	if p == nil {
		e.i32(-1)
		return
	}
	e.i32(int32(len(p)))
	e.b = append(e.b, p...)
}

func (e *enc) strs(v []string) {
	e.i32(int32(len(v)))
	for _, s := range v {
		e.str(s)
	}
}

func (e *enc) acls(v []proto.ACL) {
	if v == nil {
		e.i32(-1)
		return
	}
	e.i32(int32(len(v)))
	for _, a := range v {
		e.i32(a.Perms)
		e.str(a.ID.Scheme)
		e.str(a.ID.ID)
	}
}

// dec reads jute fields; the first short read sets err and later reads return zeros.
type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("%w: need %d bytes, have %d", errShort, n, len(d.b))
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) i32() int32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

func (d *dec) i64() int64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

func (d *dec) boolean() bool {
	p := d.take(1)
	return p != nil && p[0] != 0
}

// buf returns nil for the null buffer and a non-nil slice otherwise.
func (d *dec) buf() []byte {
	n := d.i32()
	if n == -1 {
		return nil
	}
	p := d.take(int(n))
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}

func (d *dec) str() string { return string(d.buf()) }

func (d *dec) strs() []string {
	n := d.i32()
	if n < 0 || d.err != nil {
		return nil
	}
	out := make([]string, 0, min(int(n), 1024))
	for i := int32(0); i < n && d.err == nil; i++ {
		out = append(out, d.str())
	}
	return out
}

func (d *dec) acls() []proto.ACL {
	n := d.i32()
	if n < 0 || d.err != nil {
		return nil
	}
	out := make([]proto.ACL, 0, min(int(n), 1024))
	for i := int32(0); i < n && d.err == nil; i++ {
		perms := d.i32()
		out = append(out, proto.ACL{Perms: perms, ID: proto.Id{Scheme: d.str(), ID: d.str()}})
	}
	return out
}

func (d *dec) stat() proto.Stat {
	return proto.Stat{
		Czxid: d.i64(), Mzxid: d.i64(), Ctime: d.i64(), Mtime: d.i64(),
		Version: d.i32(), Cversion: d.i32(), Aversion: d.i32(),
		EphemeralOwner: d.i64(), DataLength: d.i32(), NumChildren: d.i32(), Pzxid: d.i64(),
	}
}
