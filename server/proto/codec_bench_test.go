package proto

import (
	"strconv"
	"testing"
)

// BenchmarkEncodeGetChildrenReply1000 frames a getChildren reply of 1000
// names, as a big lock or queue parent's listing.
func BenchmarkEncodeGetChildrenReply1000(b *testing.B) {
	kids := make([]string, 1000)
	for i := range kids {
		kids[i] = "lock-" + strconv.Itoa(1_000_000_000+i)
	}
	var e Encoder
	resp := &GetChildrenResponse{Children: kids}
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		start := e.StartFrame()
		(&ReplyHeader{Xid: 1, Zxid: 2}).Encode(&e)
		resp.Encode(&e)
		e.EndFrame(start)
	}
}

// BenchmarkDecodeMulti10 decodes a multi of 10 creates of 100 bytes.
func BenchmarkDecodeMulti10(b *testing.B) {
	var m MultiRequest
	for i := 0; i < 10; i++ {
		m.Ops = append(m.Ops, MultiOp{Op: OpCreate, Create: &CreateTTLRequest{Path: "/batch/n" + strconv.Itoa(i),
			Data: make([]byte, 100), ACL: OpenACLUnsafe}})
	}
	body := encode(&m)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(OpMulti, body, 0); err != nil {
			b.Fatal(err)
		}
	}
}
