package proto

import (
	"errors"
	"reflect"
	"testing"
)

func encode(r Record) []byte {
	var e Encoder
	r.Encode(&e)
	return e.Bytes()
}

func TestRecordRoundTrip(t *testing.T) {
	for _, c := range recordCases() {
		t.Run(c.name, func(t *testing.T) {
			b := encode(c.rec)
			got := c.fresh()
			d := NewDecoder(b, 0)
			got.Decode(d)
			if err := d.Err(); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d.Remaining() != 0 {
				t.Errorf("%d bytes left after decode", d.Remaining())
			}
			if !reflect.DeepEqual(got, c.rec) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, c.rec)
			}
		})
	}
}

// TestRecordTruncated decodes every proper prefix of every record's encoding:
// each must fail with ErrMalformed and none may panic.
func TestRecordTruncated(t *testing.T) {
	for _, c := range recordCases() {
		t.Run(c.name, func(t *testing.T) {
			b := encode(c.rec)
			for n := 0; n < len(b)-c.optionalTail; n++ {
				d := NewDecoder(b[:n], 0)
				c.fresh().Decode(d)
				if !errors.Is(d.Err(), ErrMalformed) {
					t.Fatalf("prefix %d/%d: err = %v, want ErrMalformed", n, len(b), d.Err())
				}
			}
		})
	}
}

// TestRecordTrailingBytesIgnored checks that bytes after a record are left
// unread rather than rejected, as ZooKeeper does.
func TestRecordTrailingBytesIgnored(t *testing.T) {
	for _, c := range recordCases() {
		if c.optionalTail > 0 || c.name == "ConnectRequest44" || c.name == "ConnectResponse36" {
			continue // a trailing byte there is the readOnly flag
		}
		b := append(encode(c.rec), 0xde, 0xad)
		d := NewDecoder(b, 0)
		got := c.fresh()
		got.Decode(d)
		if d.Err() != nil || d.Remaining() != 2 || !reflect.DeepEqual(got, c.rec) {
			t.Errorf("%s: err=%v remaining=%d equal=%v", c.name, d.Err(), d.Remaining(), reflect.DeepEqual(got, c.rec))
		}
	}
}

func TestConnectReadOnlyOptional(t *testing.T) {
	req := &ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}
	b := encode(req)
	if len(b) != 44 {
		t.Fatalf("len = %d, want 44", len(b))
	}
	var got ConnectRequest
	d := NewDecoder(append(b, 1), 0)
	got.Decode(d)
	if d.Err() != nil || !got.HasReadOnly || !got.ReadOnly {
		t.Fatalf("45-byte decode: %+v err=%v", got, d.Err())
	}
	// Any non-zero byte is true on read; the re-encoding is exactly 1.
	d = NewDecoder(append(b, 7), 0)
	got.Decode(d)
	if !got.ReadOnly || encode(&got)[44] != 1 {
		t.Fatalf("non-zero readOnly: %+v", got)
	}
}
