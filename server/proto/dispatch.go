package proto

import (
	"errors"
	"fmt"
)

// ErrUnknownOp is wrapped by DecodeRequest for an opcode that has no request
// record and is not a known body-less request; ZooKeeper answers such
// requests with ErrUnimplemented and closes the connection.
var ErrUnknownOp = errors.New("proto: unknown request opcode")

// NewRequest returns a zero record for op's request body. It returns false for
// ops without a body (ping, closeSession, whoAmI) and for unknown ops; use
// HasNoBody to tell the two apart.
func NewRequest(op OpCode) (Record, bool) {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}, true
	case OpCreateTTL:
		return &CreateTTLRequest{}, true
	case OpDelete:
		return &DeleteRequest{}, true
	case OpExists, OpGetData, OpGetChildren, OpGetChildren2:
		return &PathWatchRequest{}, true
	case OpSetData:
		return &SetDataRequest{}, true
	case OpGetACL, OpSync, OpDeleteContainer, OpGetEphemerals, OpGetAllChildrenNumber:
		return &PathRequest{}, true
	case OpSetACL:
		return &SetACLRequest{}, true
	case OpCheck:
		return &CheckVersionRequest{}, true
	case OpMulti, OpMultiRead:
		return &MultiRequest{}, true
	case OpReconfig:
		return &ReconfigRequest{}, true
	case OpCheckWatches, OpRemoveWatches:
		return &WatchesRequest{}, true
	case OpAuth:
		return &AuthPacket{}, true
	case OpSASL:
		return &SASLRequest{}, true
	case OpSetWatches:
		return &SetWatches{}, true
	case OpSetWatches2:
		return &SetWatches{V2: true}, true
	case OpAddWatch:
		return &AddWatchRequest{}, true
	}
	return nil, false
}

// HasNoBody reports whether op is a valid client request that carries no
// record: ping (11), closeSession (-11) and whoAmI (107).
func HasNoBody(op OpCode) bool {
	return op == OpPing || op == OpCloseSession || op == OpWhoAmI
}

// DecodeRequest decodes body as op's request record. Body-less ops return
// (nil, nil); unknown ops return an error wrapping ErrUnknownOp; a body that
// does not parse returns an error wrapping ErrMalformed. Trailing bytes after
// the record are ignored, as ZooKeeper does. (A connection that keeps its own
// Decoder can avoid one allocation by calling NewRequest and Decode itself.)
func DecodeRequest(op OpCode, body []byte, maxLen int) (Record, error) {
	rec, ok := NewRequest(op)
	if !ok {
		if HasNoBody(op) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %d", ErrUnknownOp, int32(op))
	}
	var d Decoder
	d.Reset(body, maxLen)
	rec.Decode(&d)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("decode %v request: %w", op, err)
	}
	return rec, nil
}
