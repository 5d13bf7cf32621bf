package proto

import (
	"errors"
	"testing"
)

func TestMultiRejectsMixedReadWrite(t *testing.T) {
	mixed := &MultiRequest{Ops: []MultiOp{
		{Op: OpDelete, Delete: &DeleteRequest{Path: "/a"}},
		{Op: OpGetData, Read: &PathWatchRequest{Path: "/a"}},
	}}
	reversed := &MultiRequest{Ops: []MultiOp{mixed.Ops[1], mixed.Ops[0]}}
	for _, m := range []*MultiRequest{mixed, reversed} {
		_, err := DecodeRequest(OpMulti, encode(m), 0)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("mixed multi: err = %v, want ErrMalformed", err)
		}
	}
}

func TestMultiRejectsUnknownSubOp(t *testing.T) {
	for _, op := range []OpCode{OpExists, OpSync, OpMulti, OpGetChildren2, 99} {
		b := unhex(t, "00000000 00 ffffffff 00000002 2f61 ffffffff 01 ffffffff")
		b[3] = byte(op)
		if _, err := DecodeRequest(OpMulti, b, 0); !errors.Is(err, ErrMalformed) {
			t.Errorf("sub-op %d: err = %v, want ErrMalformed", op, err)
		}
	}
}

func TestMultiMissingTerminator(t *testing.T) {
	m := sampleMulti()
	b := encode(m)
	if _, err := DecodeRequest(OpMulti, b[:len(b)-9], 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

// TestMultiDoneEndsSequence checks that, as in Java, done=true ends the list
// whatever the type and err fields say.
func TestMultiDoneEndsSequence(t *testing.T) {
	b := unhex(t, "00000002 00 ffffffff 00000002 2f61 ffffffff   00000005 01 00000000")
	rec, err := DecodeRequest(OpMulti, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m := rec.(*MultiRequest); len(m.Ops) != 1 || m.Ops[0].Delete.Path != "/a" {
		t.Fatalf("ops = %+v", m.Ops)
	}
}

func TestMultiReadOnly(t *testing.T) {
	if sampleMulti().ReadOnly() || (&MultiRequest{}).ReadOnly() {
		t.Error("write multi reported read-only")
	}
	r := &MultiRequest{Ops: []MultiOp{{Op: OpGetChildren, Read: &PathWatchRequest{Path: "/"}}}}
	if !r.ReadOnly() {
		t.Error("multiRead not reported read-only")
	}
}

func TestMultiCreateTTLOnlyForOp21(t *testing.T) {
	// A TTL set on an op-1 create is not on the wire (CreateRequest layout).
	m := &MultiRequest{Ops: []MultiOp{{Op: OpCreate, Create: &CreateTTLRequest{Path: "/a", TTL: 5}}}}
	want := encode(&CreateRequest{Path: "/a"})
	got := encode(m)
	if body := got[9 : len(got)-9]; string(body) != string(want) {
		t.Fatalf("op-1 body %x, want %x", body, want)
	}
}

func TestMultiNilSubRecordEncodesZero(t *testing.T) {
	m := &MultiRequest{Ops: []MultiOp{{Op: OpDelete}, {Op: OpCreate}}}
	rec, err := DecodeRequest(OpMulti, encode(m), 0)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.(*MultiRequest)
	if len(got.Ops) != 2 || got.Ops[0].Delete == nil || got.Ops[1].Create == nil {
		t.Fatalf("ops = %+v", got.Ops)
	}
}

func TestMultiResponseRejectsUnknownType(t *testing.T) {
	b := unhex(t, "00000003 00 00000000 ffffffff 01 ffffffff")
	var r MultiResponse
	d := NewDecoder(b, 0)
	r.Decode(d)
	if !errors.Is(d.Err(), ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", d.Err())
	}
}
