package nemesis

import (
	"math"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/herd-io/herd/server/proto"
)

func regOp(client int, in regInput, out regOutput, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
}

// TestRegisterModel proves the register checker can fail: each bad history
// is one a broken server could produce.
func TestRegisterModel(t *testing.T) {
	create := func(v string, call, ret int64) porcupine.Operation {
		return regOp(0, regInput{Kind: regCreate, Value: v}, regOutput{}, call, ret)
	}
	get := func(v string, ver int32, call, ret int64) porcupine.Operation {
		return regOp(1, regInput{Kind: regGet}, regOutput{Value: v, Version: ver}, call, ret)
	}
	set := func(v string, expect, got int32, code proto.Error, call, ret int64) porcupine.Operation {
		return regOp(0, regInput{Kind: regSet, Value: v, Version: expect}, regOutput{Err: code, Version: got}, call, ret)
	}
	absent := regOp(1, regInput{Kind: regGet}, regOutput{Err: proto.ErrNoNode}, 10, 11)
	cases := []struct {
		name string
		ok   bool
		ops  []porcupine.Operation
	}{
		{"create, set, read", true, []porcupine.Operation{create("a", 0, 1), set("b", 0, 1, 0, 2, 3), get("b", 1, 4, 5)}},
		{"stale read", false, []porcupine.Operation{create("a", 0, 1), set("b", 0, 1, 0, 2, 3), get("a", 0, 4, 5)}},
		{"lost create", false, []porcupine.Operation{create("a", 0, 1), absent}},
		{"cas on a stale version succeeds", false, []porcupine.Operation{create("a", 0, 1), set("b", 0, 1, 0, 2, 3), set("c", 0, 2, 0, 4, 5)}},
		{"cas refused on the right version", false, []porcupine.Operation{create("a", 0, 1), set("b", 0, 0, proto.ErrBadVersion, 2, 3)}},
		{"unknown create may apply", true, []porcupine.Operation{
			regOp(0, regInput{Kind: regCreate, Value: "a"}, regOutput{Unknown: true}, 0, math.MaxInt64), get("a", 0, 5, 6)}},
		{"unknown create may not apply", true, []porcupine.Operation{
			regOp(0, regInput{Kind: regCreate, Value: "a"}, regOutput{Unknown: true}, 0, math.MaxInt64), absent}},
		{"unknown create seen then unseen", false, []porcupine.Operation{
			regOp(0, regInput{Kind: regCreate, Value: "a"}, regOutput{Unknown: true}, 0, math.MaxInt64), get("a", 0, 5, 6), absent}},
		{"keys are separate", false, []porcupine.Operation{create("a", 0, 1),
			regOp(1, regInput{Key: 1, Kind: regGet}, regOutput{Value: "a"}, 2, 3)}},
	}
	for _, c := range cases {
		if got := porcupine.CheckOperations(RegisterModel, c.ops); got != c.ok {
			t.Errorf("%s: linearizable = %v, want %v", c.name, got, c.ok)
		}
	}
}

// TestMonotonicCheck: a plain read older than what its client had seen is
// caught; one that is merely behind other clients is not.
func TestMonotonicCheck(t *testing.T) {
	writes := []ackedWrite{{Key: 0, Kind: regCreate, Zxid: 10}, {Key: 0, Kind: regSet, Zxid: 20}}
	ok := []plainRead{{Client: 1, Key: 0, Seen: 15, Mzxid: 10}, {Client: 1, Key: 0, Seen: 25, Mzxid: 20}, {Client: 2, Key: 0, Seen: 5, Err: proto.ErrNoNode}}
	if bad := checkMonotonic(ok, writes, nil); len(bad) != 0 {
		t.Errorf("valid reads rejected: %v", bad)
	}
	stale := []plainRead{{Client: 1, Key: 0, Seen: 25, Mzxid: 10}}
	if bad := checkMonotonic(stale, writes, nil); len(bad) != 1 {
		t.Errorf("stale read: %v", bad)
	}
	gone := []plainRead{{Client: 1, Key: 0, Seen: 25, Err: proto.ErrNoNode}}
	if bad := checkMonotonic(gone, writes, nil); len(bad) != 1 {
		t.Errorf("vanished node: %v", bad)
	}
	if bad := checkMonotonic(gone, writes, map[int]int{0: 1}); len(bad) != 0 {
		t.Errorf("a delete of unknown outcome explains the absence: %v", bad)
	}
}

// TestLockCheck: overlapping clean holds, repeated or falling tokens and a
// fenced clean hold are each caught.
func TestLockCheck(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	h := func(w int, tok int64, called, acq, rel int, clean bool) lockHold {
		return lockHold{Worker: w, Token: tok, Called: at(called), Acquired: at(acq), Released: at(rel), Clean: clean}
	}
	good := []lockHold{h(0, 5, 0, 1, 10, true), h(1, 7, 0, 11, 20, true), h(2, 9, 12, 21, 30, false), h(0, 11, 15, 25, 35, true)}
	if bad := checkLockHolds(good); len(bad) != 0 {
		t.Errorf("valid holds rejected: %v", bad)
	}
	for name, hs := range map[string][]lockHold{
		"overlap":       {h(0, 5, 0, 1, 10, true), h(1, 7, 0, 5, 20, true)},
		"shared token":  {h(0, 5, 0, 1, 10, false), h(1, 5, 0, 11, 20, false)},
		"falling token": {h(0, 7, 0, 1, 10, true), h(1, 5, 2, 11, 20, true)},
		"fenced clean":  {{Worker: 0, Token: 5, Acquired: at(1), Released: at(2), Clean: true, Rejected: 1}},
	} {
		if bad := checkLockHolds(hs); len(bad) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}
