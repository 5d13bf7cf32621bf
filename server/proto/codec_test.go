package proto

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
)

func TestEncoderPrimitives(t *testing.T) {
	var e Encoder
	e.Int32(-1)
	e.Int64(1)
	e.Bool(true)
	e.Bool(false)
	e.Buffer(nil)
	e.Buffer([]byte{})
	e.String("")
	e.Strings(nil)
	e.Strings([]string{})
	e.ACLs(nil)
	want := unhex(t, "ffffffff 0000000000000001 01 00 ffffffff 00000000 00000000 ffffffff 00000000 ffffffff")
	if !bytes.Equal(e.Bytes(), want) || e.Len() != len(want) {
		t.Fatalf("got %x\nwant %x", e.Bytes(), want)
	}
	e.Reset()
	if e.Len() != 0 {
		t.Fatalf("Len after Reset = %d", e.Len())
	}
	e.Stat(nil) // never null on the wire: zeros
	if e.Len() != 68 || !bytes.Equal(e.Bytes(), make([]byte, 68)) {
		t.Fatalf("Stat(nil) = %x", e.Bytes())
	}
}

func TestEncoderReusesBuffer(t *testing.T) {
	buf := make([]byte, 0, 64)
	e := NewEncoder(buf)
	e.Int64(1)
	if &e.Bytes()[0] != &buf[:1][0] {
		t.Fatal("NewEncoder did not append into the given buffer")
	}
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		(&ReplyHeader{Xid: 1, Zxid: 2}).Encode(e)
		(&Create2Response{Path: "/abc", Stat: sampleStat}).Encode(e)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per encode, want 0", allocs)
	}
}

func TestEncoderFrame(t *testing.T) {
	var e Encoder
	start := e.StartFrame()
	(&ReplyHeader{Xid: 3}).Encode(&e)
	e.EndFrame(start)
	payload := encode(&ReplyHeader{Xid: 3})
	if want := AppendFrame(nil, payload); !bytes.Equal(e.Bytes(), want) {
		t.Fatalf("framed %x, want %x", e.Bytes(), want)
	}
}

func TestDecoderPrimitives(t *testing.T) {
	b := unhex(t, "ffffffff 0000000000000001 01 05 00 ffffffff 00000000 ffffffff 00000000 ffffffff 00000000 ffffffff 00000000 00000002 6869")
	d := NewDecoder(b, 0)
	if v := d.Int32(); v != -1 {
		t.Errorf("Int32 = %d", v)
	}
	if v := d.Int64(); v != 1 {
		t.Errorf("Int64 = %d", v)
	}
	b1, b2, b3 := d.Bool(), d.Bool(), d.Bool()
	if !b1 || !b2 || b3 {
		t.Error("Bool: want true, true (non-zero), false")
	}
	if v := d.Buffer(); v != nil {
		t.Errorf("null Buffer = %#v, want nil", v)
	}
	if v := d.Buffer(); v == nil || len(v) != 0 {
		t.Errorf("empty Buffer = %#v, want non-nil empty", v)
	}
	if s1, s2 := d.String(), d.String(); s1 != "" || s2 != "" {
		t.Error("null and empty String must be \"\"")
	}
	if v := d.Strings(); v != nil {
		t.Errorf("null Strings = %#v", v)
	}
	if v := d.Strings(); v == nil || len(v) != 0 {
		t.Errorf("empty Strings = %#v", v)
	}
	if v := d.ACLs(); v != nil {
		t.Errorf("null ACLs = %#v", v)
	}
	if v := d.ACLs(); v == nil || len(v) != 0 {
		t.Errorf("empty ACLs = %#v", v)
	}
	if v := d.String(); v != "hi" {
		t.Errorf("String = %q", v)
	}
	if d.Err() != nil || d.Remaining() != 0 {
		t.Fatalf("err=%v remaining=%d", d.Err(), d.Remaining())
	}
}

func TestDecoderBufferIsCopied(t *testing.T) {
	b := unhex(t, "00000002 6162")
	d := NewDecoder(b, 0)
	got := d.Buffer()
	b[4] = 'z'
	if string(got) != "ab" {
		t.Fatalf("Buffer aliases its input: %q", got)
	}
}

func TestDecoderErrors(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		maxLen int
		read   func(d *Decoder)
	}{
		{"short int", "000000", 0, func(d *Decoder) { d.Int32() }},
		{"short long", "00000000000000", 0, func(d *Decoder) { d.Int64() }},
		{"empty bool", "", 0, func(d *Decoder) { d.Bool() }},
		{"length -2", "fffffffe", 0, func(d *Decoder) { d.Buffer() }},
		{"min int length", "80000000", 0, func(d *Decoder) { _ = d.String() }},
		{"beyond input", "00000005 6162", 0, func(d *Decoder) { _ = d.String() }},
		{"over maxLen", "00000003 616263", 2, func(d *Decoder) { d.Buffer() }},
		{"vector over maxLen", "00000003 00000000 00000000 00000000", 2, func(d *Decoder) { d.Strings() }},
		// A 2^31-1 element count in a short packet must fail before allocating.
		{"huge string vector", "7fffffff 00000000 00000000", 0x7fffffff, func(d *Decoder) { d.Strings() }},
		{"huge ACL vector", "7fffffff 00000000 00000000", 0x7fffffff, func(d *Decoder) { d.ACLs() }},
		{"ACL vector needs 12 bytes each", "00000002 0000001f 00000000 00000000 00000000", 0, func(d *Decoder) { d.ACLs() }},
		{"short stat", "00", 0, func(d *Decoder) { d.Stat() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(unhex(t, c.in), c.maxLen)
			c.read(d)
			if !errors.Is(d.Err(), ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", d.Err())
			}
		})
	}
}

func TestDecoderStickyError(t *testing.T) {
	d := NewDecoder(unhex(t, "000000"), 0)
	d.Int32() // fails: 3 bytes
	first := d.Err()
	if first == nil {
		t.Fatal("no error")
	}
	if d.Int32() != 0 || d.String() != "" || d.Buffer() != nil || d.Strings() != nil || d.Stat() != (Stat{}) {
		t.Fatal("reads after an error must return zero values")
	}
	if d.Err() != first {
		t.Fatalf("error changed to %v", d.Err())
	}
	d.Reset(unhex(t, "00000007"), 0)
	if d.Int32() != 7 || d.Err() != nil {
		t.Fatal("Reset did not clear the error")
	}
}

func TestDecoderHugeCountBoundedAllocation(t *testing.T) {
	b := unhex(t, "7fffffff 0000")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		var d Decoder
		d.Reset(b, 0x7fffffff)
		d.Strings()
		d.Reset(b, 0x7fffffff)
		d.ACLs()
	}
	runtime.ReadMemStats(&after)
	// Only error values may be allocated, never a vector of 2^31 elements.
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Fatalf("%d bytes allocated", n)
	}
}
