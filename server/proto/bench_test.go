package proto

import "testing"

func BenchmarkDecodeGetData(b *testing.B) {
	body := encode(&PathWatchRequest{Path: "/some/node/path", Watch: true})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(OpGetData, body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCreate(b *testing.B) {
	body := encode(&CreateRequest{Path: "/some/node/path", Data: make([]byte, 100), ACL: OpenACLUnsafe})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(OpCreate, body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGetDataReply(b *testing.B) {
	var e Encoder
	resp := &GetDataResponse{Data: make([]byte, 100), Stat: sampleStat}
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		start := e.StartFrame()
		(&ReplyHeader{Xid: 1, Zxid: 2}).Encode(&e)
		resp.Encode(&e)
		e.EndFrame(start)
	}
}
