package proto

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzDecodeRequest feeds a request payload (RequestHeader + body, or a bare
// ConnectRequest) to the server-side decoders. Nothing may panic, and whatever
// decodes must re-encode, no longer than its input, to bytes that decode to
// the same value. Seeds in testdata/fuzz are real packets captured from
// go-zookeeper, kazoo and zkCli (TestCaptureSeeds); f.Add adds our own.
func FuzzDecodeRequest(f *testing.F) {
	for _, c := range recordCases() {
		if _, ok := c.rec.(*MultiRequest); ok {
			f.Add(append(encode(&RequestHeader{Xid: 1, Op: OpMulti}), encode(c.rec)...))
		}
	}
	f.Add(encode(&ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLen = 1 << 16
		var cr ConnectRequest
		d := NewDecoder(data, maxLen)
		cr.Decode(d)
		if d.Err() == nil {
			checkReencode(t, data, &cr, func() Record { return &ConnectRequest{} }, maxLen)
		} else if !errors.Is(d.Err(), ErrMalformed) {
			t.Fatalf("connect: error %v does not wrap ErrMalformed", d.Err())
		}

		var hdr RequestHeader
		d = NewDecoder(data, maxLen)
		hdr.Decode(d)
		if d.Err() != nil {
			return
		}
		body := data[8:]
		rec, err := DecodeRequest(hdr.Op, body, maxLen)
		switch {
		case err != nil:
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownOp) {
				t.Fatalf("op %v: error %v wraps neither sentinel", hdr.Op, err)
			}
		case rec != nil:
			again := encode(rec)
			if len(again) > len(body) {
				t.Fatalf("op %v: re-encoding grew from %d to %d bytes", hdr.Op, len(body), len(again))
			}
			rec2, err := DecodeRequest(hdr.Op, again, maxLen)
			if err != nil {
				t.Fatalf("op %v: re-encoding %x does not decode: %v", hdr.Op, again, err)
			}
			if !reflect.DeepEqual(rec, rec2) {
				t.Fatalf("op %v: round trip changed\n%+v\n%+v", hdr.Op, rec, rec2)
			}
		}
	})
}

// FuzzDecodeResponse feeds a reply payload (ReplyHeader + body) to every
// response decoder, as our raw clients and tests do. Seeds are ZooKeeper's own
// replies captured by the live test.
func FuzzDecodeResponse(f *testing.F) {
	for _, c := range recordCases() {
		f.Add(append(encode(&ReplyHeader{Xid: 1}), encode(c.rec)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLen = 1 << 16
		if len(data) < 16 {
			return
		}
		for _, c := range recordCases() {
			fresh := c.fresh
			rec := fresh()
			d := NewDecoder(data[16:], maxLen)
			rec.Decode(d)
			if d.Err() != nil {
				if !errors.Is(d.Err(), ErrMalformed) {
					t.Fatalf("%s: error %v does not wrap ErrMalformed", c.name, d.Err())
				}
				continue
			}
			checkReencode(t, data[16:], rec, fresh, maxLen)
		}
	})
}

// checkReencode asserts that rec, decoded from in, re-encodes to at most
// len(in) bytes that decode back to an equal record.
func checkReencode(t *testing.T, in []byte, rec Record, fresh func() Record, maxLen int) {
	t.Helper()
	again := encode(rec)
	if len(again) > len(in) {
		t.Fatalf("%T: re-encoding grew from %d to %d bytes", rec, len(in), len(again))
	}
	rec2 := fresh()
	d := NewDecoder(again, maxLen)
	rec2.Decode(d)
	if d.Err() != nil {
		t.Fatalf("%T: re-encoding %x does not decode: %v", rec, again, d.Err())
	}
	if !reflect.DeepEqual(rec, rec2) {
		t.Fatalf("%T: round trip changed\n%+v\n%+v", rec, rec, rec2)
	}
}

// FuzzReadFrame reads frames from an arbitrary stream with a small limit.
// Every frame returned must respect the limit, the frames must reassemble
// exactly the bytes consumed, and reading must end with one of the
// documented errors. Seeds include whole client streams captured from real
// clients (TestCaptureSeeds).
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(AppendFrame(nil, []byte("abc")), nil))
	f.Add([]byte("ruok"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLen = 4096
		r := bytes.NewReader(data)
		buf := make([]byte, 0, 64)
		var rebuilt []byte
		for {
			p, err := ReadFrame(r, buf, maxLen)
			if err != nil {
				consumed := len(data) - r.Len()
				switch {
				case err == io.EOF:
					if consumed != len(data) || !bytes.Equal(rebuilt, data) {
						t.Fatalf("EOF after %d of %d bytes", consumed, len(data))
					}
				case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrFrameTooLarge):
					if !bytes.HasPrefix(data, rebuilt) {
						t.Fatal("frames do not reassemble the stream")
					}
				default:
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(p) > maxLen {
				t.Fatalf("frame of %d bytes exceeds %d", len(p), maxLen)
			}
			rebuilt = AppendFrame(rebuilt, p)
			if !bytes.HasPrefix(data, rebuilt) {
				t.Fatal("frames do not reassemble the stream")
			}
		}
	})
}
