package proto

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// unhex decodes a hex string, ignoring spaces so fields can be grouped.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoldenEncodings pins byte layouts taken from the jute definitions in the
// protocol reference (§1–§7).
func TestGoldenEncodings(t *testing.T) {
	zero16 := strings.Repeat("00", 16)
	st := sampleStat
	cases := []struct {
		name string
		rec  Record
		want string
	}{
		// go-zookeeper's 44-byte request: no readOnly byte.
		{"ConnectRequest44", &ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)},
			"00000000 0000000000000000 00007530 0000000000000000 00000010" + zero16},
		// Java and kazoo append readOnly: 45 bytes.
		{"ConnectRequest45", &ConnectRequest{LastZxidSeen: 0x10, TimeOut: 10000, SessionID: 0x0102030405060708, Passwd: make([]byte, 16), HasReadOnly: true},
			"00000000 0000000000000010 00002710 0102030405060708 00000010" + zero16 + "00"},
		{"ConnectResponse36", &ConnectResponse{TimeOut: 4000, SessionID: 1, Passwd: make([]byte, 16)},
			"00000000 00000fa0 0000000000000001 00000010" + zero16},
		{"ConnectResponse37", &ConnectResponse{Passwd: make([]byte, 16), HasReadOnly: true, ReadOnly: true},
			"00000000 00000000 0000000000000000 00000010" + zero16 + "01"},
		{"Stat", &StatResponse{Stat: st},
			"0102030405060708 0000000000000002 0000018bcfe56800 0000018bcfe56801 00000003 fffffffc 00000005 7fffffffffffffff 00000006 00000007 fffffffffffffff8"},
		{"RequestHeader", &RequestHeader{Xid: -2, Op: OpPing}, "fffffffe 0000000b"},
		{"ReplyHeader", &ReplyHeader{Xid: 5, Zxid: 0x1f, Err: ErrNodeExists}, "00000005 000000000000001f ffffff92"},
		{"CreateRequest", &CreateRequest{Path: "/a", Data: []byte("x"), ACL: OpenACLUnsafe, Flags: ModeEphemeral},
			"00000002 2f61 00000001 78 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000001"},
		// Null data is length -1; the empty ACL id is length 0, not -1.
		{"CreateRequestNull", &CreateRequest{Path: "/a", ACL: CreatorAllACL},
			"00000002 2f61 ffffffff 00000001 0000001f 00000004 61757468 00000000 00000000"},
		{"PathWatchRequest", &PathWatchRequest{Path: "", Watch: true}, "00000000 01"},
		{"SetWatches", &SetWatches{RelativeZxid: 1, Data: []string{"/a"}}, "0000000000000001 00000001 00000002 2f61 ffffffff ffffffff"},
		{"MultiDelete", &MultiRequest{Ops: []MultiOp{{Op: OpDelete, Delete: &DeleteRequest{Path: "/a", Version: -1}}}},
			"00000002 00 ffffffff 00000002 2f61 ffffffff   ffffffff 01 ffffffff"},
		{"MultiCreateTTL", &MultiRequest{Ops: []MultiOp{{Op: OpCreateTTL, Create: &CreateTTLRequest{Path: "/t", ACL: []ACL{}, Flags: ModePersistentWithTTL, TTL: 5}}}},
			"00000015 00 ffffffff 00000002 2f74 ffffffff 00000000 00000005 0000000000000005   ffffffff 01 ffffffff"},
		{"MultiResponseRollback", &MultiResponse{Results: []MultiResult{{Op: OpError, Err: ErrOK}, {Op: OpError, Err: ErrNoNode}}},
			"ffffffff 00 00000000 00000000   ffffffff 00 ffffff9b ffffff9b   ffffffff 01 ffffffff"},
		{"AddWatchReply", &ErrorResponse{}, "00000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.want)
			if got := encode(c.rec); !bytes.Equal(got, want) {
				t.Errorf("encoding\n got %x\nwant %x", got, want)
			}
		})
	}
}

func TestGoldenSizes(t *testing.T) {
	st := Stat{}
	sizes := map[string]struct {
		rec  Record
		want int
	}{
		"Stat":              {&StatResponse{Stat: st}, 68},
		"ConnectRequest44":  {&ConnectRequest{Passwd: make([]byte, 16)}, 44},
		"ConnectRequest45":  {&ConnectRequest{Passwd: make([]byte, 16), HasReadOnly: true}, 45},
		"ConnectResponse36": {&ConnectResponse{Passwd: make([]byte, 16)}, 36},
		"ConnectResponse37": {&ConnectResponse{Passwd: make([]byte, 16), HasReadOnly: true}, 37},
		"RequestHeader":     {&RequestHeader{}, 8},
		"ReplyHeader":       {&ReplyHeader{}, 16},
	}
	for name, s := range sizes {
		if got := len(encode(s.rec)); got != s.want {
			t.Errorf("%s: %d bytes, want %d", name, got, s.want)
		}
	}
}

// TestKazooNullString decodes what kazoo 2.8 sends for the empty ACL id of the
// auth scheme: a -1 length, which must read as "".
func TestKazooNullString(t *testing.T) {
	b := unhex(t, "00000002 2f61 00000000 00000001 0000001f 00000004 61757468 ffffffff 00000000")
	var r CreateRequest
	d := NewDecoder(b, 0)
	r.Decode(d)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	if r.ACL[0].ID != (Id{Scheme: "auth", ID: ""}) || r.Data == nil || len(r.Data) != 0 {
		t.Fatalf("decoded %+v", r)
	}
	// Re-encoded the Java way: "" is length 0.
	if got := encode(&r); !bytes.Equal(got[len(got)-8:len(got)-4], []byte{0, 0, 0, 0}) {
		t.Fatalf("re-encoded %x", got)
	}
}
