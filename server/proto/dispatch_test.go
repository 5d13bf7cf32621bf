package proto

import (
	"errors"
	"reflect"
	"testing"
)

func TestNewRequestCoversEveryOp(t *testing.T) {
	want := map[OpCode]Record{
		OpCreate: &CreateRequest{}, OpCreate2: &CreateRequest{}, OpCreateContainer: &CreateRequest{},
		OpCreateTTL: &CreateTTLRequest{}, OpDelete: &DeleteRequest{},
		OpExists: &PathWatchRequest{}, OpGetData: &PathWatchRequest{}, OpGetChildren: &PathWatchRequest{},
		OpGetChildren2: &PathWatchRequest{}, OpSetData: &SetDataRequest{},
		OpGetACL: &PathRequest{}, OpSync: &PathRequest{}, OpDeleteContainer: &PathRequest{},
		OpGetEphemerals: &PathRequest{}, OpGetAllChildrenNumber: &PathRequest{},
		OpSetACL: &SetACLRequest{}, OpCheck: &CheckVersionRequest{},
		OpMulti: &MultiRequest{}, OpMultiRead: &MultiRequest{}, OpReconfig: &ReconfigRequest{},
		OpCheckWatches: &WatchesRequest{}, OpRemoveWatches: &WatchesRequest{},
		OpAuth: &AuthPacket{}, OpSASL: &SASLRequest{},
		OpSetWatches: &SetWatches{}, OpSetWatches2: &SetWatches{V2: true}, OpAddWatch: &AddWatchRequest{},
	}
	for op := range opNames {
		rec, ok := NewRequest(op)
		w, has := want[op]
		if ok != has || !reflect.DeepEqual(rec, w) {
			t.Errorf("NewRequest(%v) = %#v, %v; want %#v", op, rec, ok, w)
		}
	}
	if _, ok := NewRequest(12345); ok {
		t.Error("unknown op has a record")
	}
}

func TestDecodeRequest(t *testing.T) {
	rec, err := DecodeRequest(OpSetWatches2, encode(&SetWatches{RelativeZxid: 3, Persistent: []string{"/p"}, V2: true}), 0)
	if err != nil {
		t.Fatal(err)
	}
	if sw := rec.(*SetWatches); !sw.V2 || sw.Persistent[0] != "/p" {
		t.Fatalf("got %+v", sw)
	}
	for _, op := range []OpCode{OpPing, OpCloseSession, OpWhoAmI} {
		if rec, err := DecodeRequest(op, nil, 0); rec != nil || err != nil {
			t.Errorf("%v: %v, %v; want nil, nil", op, rec, err)
		}
	}
	for _, op := range []OpCode{OpNotification, OpCreateSession, OpError, 10, 200} {
		if _, err := DecodeRequest(op, nil, 0); !errors.Is(err, ErrUnknownOp) {
			t.Errorf("%v: err = %v, want ErrUnknownOp", op, err)
		}
	}
	if _, err := DecodeRequest(OpCreate, []byte{0, 0, 0, 9}, 0); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated create: err = %v, want ErrMalformed", err)
	}
	// maxLen applies: a 3-byte path with a 2-byte limit.
	if _, err := DecodeRequest(OpSync, encode(&PathRequest{Path: "/ab"}), 2); !errors.Is(err, ErrMalformed) {
		t.Errorf("over maxLen: err = %v, want ErrMalformed", err)
	}
}
