package proto

// multiHeader is the jute MultiHeader that precedes each multi sub-op and
// result; done=true ends the sequence.
type multiHeader struct {
	op   OpCode
	done bool
	err  Error
}

// encode writes the header; done is always written as exactly 0 or 1.
func (h *multiHeader) encode(e *Encoder) {
	e.Int32(int32(h.op))
	e.Bool(h.done)
	e.Int32(int32(h.err))
}

// decode reads the header; any non-zero done byte ends the sequence, as in Java.
func (h *multiHeader) decode(d *Decoder) {
	h.op = OpCode(d.Int32())
	h.done = d.Bool()
	h.err = Error(d.Int32())
}

// multiEnd is the terminator of both the request and the response sequences.
var multiEnd = multiHeader{op: OpError, done: true, err: ErrSystemError}

// MultiOp is one sub-operation of multi (14) or multiRead (22). Exactly the
// field matching Op is set.
type MultiOp struct {
	Op OpCode
	// Create is set for create (1), create2 (15), createContainer (19) and
	// createTTL (21); TTL is on the wire, and non-zero, only for 21.
	Create *CreateTTLRequest
	// Delete is set for delete (2).
	Delete *DeleteRequest
	// SetData is set for setData (5).
	SetData *SetDataRequest
	// Check is set for check (13).
	Check *CheckVersionRequest
	// Read is set for getData (4) and getChildren (8), multiRead only; the
	// server ignores its Watch flag.
	Read *PathWatchRequest
}

// isRead reports whether op is one of the sub-ops only multiRead may carry.
func isRead(op OpCode) bool { return op == OpGetData || op == OpGetChildren }

// MultiRequest is the body of multi (14) and multiRead (22).
type MultiRequest struct {
	Ops []MultiOp
}

// ReadOnly reports whether the request holds read sub-ops (so it is a
// multiRead body). Decode guarantees reads and writes are never mixed.
func (r *MultiRequest) ReadOnly() bool { return len(r.Ops) > 0 && isRead(r.Ops[0].Op) }

// Encode implements Record. A sub-op whose record pointer is nil is encoded
// with a zero record so the sequence stays parseable; a sub-op of any other
// type is written as a bare header, which decoders reject.
func (r *MultiRequest) Encode(e *Encoder) {
	for i := range r.Ops {
		op := &r.Ops[i]
		h := multiHeader{op: op.Op, err: ErrSystemError}
		h.encode(e)
		switch op.Op {
		case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL:
			c := op.Create
			if c == nil {
				c = &CreateTTLRequest{}
			}
			if op.Op == OpCreateTTL {
				c.Encode(e)
			} else {
				c.encodeCreate(e)
			}
		case OpDelete:
			encodeOrZero(e, op.Delete)
		case OpSetData:
			encodeOrZero(e, op.SetData)
		case OpCheck:
			encodeOrZero(e, op.Check)
		case OpGetData, OpGetChildren:
			encodeOrZero(e, op.Read)
		}
	}
	multiEnd.encode(e)
}

// encodeOrZero encodes rec, or a zero record of its type if rec is nil.
func encodeOrZero[T any, P interface {
	*T
	Record
}](e *Encoder, rec P) {
	if rec == nil {
		rec = new(T)
	}
	rec.Encode(e)
}

// Decode implements Record. Unknown sub-op types and a mix of read and write
// sub-ops are malformed (the server answers MarshallingError, as ZooKeeper
// does).
func (r *MultiRequest) Decode(d *Decoder) {
	r.Ops = nil
	var h multiHeader
	for {
		h.decode(d)
		if d.Err() != nil || h.done {
			return
		}
		op := MultiOp{Op: h.op}
		switch h.op {
		case OpCreate, OpCreate2, OpCreateContainer:
			op.Create = &CreateTTLRequest{}
			op.Create.decodeCreate(d)
		case OpCreateTTL:
			op.Create = &CreateTTLRequest{}
			op.Create.Decode(d)
		case OpDelete:
			op.Delete = &DeleteRequest{}
			op.Delete.Decode(d)
		case OpSetData:
			op.SetData = &SetDataRequest{}
			op.SetData.Decode(d)
		case OpCheck:
			op.Check = &CheckVersionRequest{}
			op.Check.Decode(d)
		case OpGetData, OpGetChildren:
			op.Read = &PathWatchRequest{}
			op.Read.Decode(d)
		default:
			d.fail("multi sub-op type %d", int32(h.op))
			return
		}
		if len(r.Ops) > 0 && isRead(r.Ops[0].Op) != isRead(h.op) {
			d.fail("multi mixes read and write sub-ops")
			return
		}
		r.Ops = append(r.Ops, op)
	}
}

// MultiResult is one entry of a MultiResponse. Op is the result type: the
// sub-op's type, or OpError (-1) for a failed or rolled-back sub-op, whose Err
// then carries the code (ErrOK for rolled back, ErrRuntimeInconsistency for
// skipped).
type MultiResult struct {
	Op  OpCode
	Err Error
	// Path is set for create (1) and create2 (15) results.
	Path string
	// Stat is set for create2 (15), setData (5) and getData (4) results.
	Stat *Stat
	// Data is set for getData (4) results; nil is a null buffer.
	Data []byte
	// Children is set for getChildren (8) results.
	Children []string
}

// MultiResponse is the reply body of multi (14) and multiRead (22). The reply
// header's err is 0 even when the transaction failed.
type MultiResponse struct {
	Results []MultiResult
}

// Encode implements Record. Result types 1, 15, 2, 5, 13, 4, 8 carry their
// bodies; type -1 carries an ErrorResponse repeating Err.
func (r *MultiResponse) Encode(e *Encoder) {
	for i := range r.Results {
		res := &r.Results[i]
		h := multiHeader{op: res.Op, err: res.Err}
		h.encode(e)
		switch res.Op {
		case OpCreate:
			e.String(res.Path)
		case OpCreate2:
			e.String(res.Path)
			e.Stat(res.Stat)
		case OpSetData:
			e.Stat(res.Stat)
		case OpGetData:
			e.Buffer(res.Data)
			e.Stat(res.Stat)
		case OpGetChildren:
			e.Strings(res.Children)
		case OpError:
			e.Int32(int32(res.Err))
		}
	}
	multiEnd.encode(e)
}

// Decode implements Record. Unknown result types are malformed.
func (r *MultiResponse) Decode(d *Decoder) {
	r.Results = nil
	var h multiHeader
	for {
		h.decode(d)
		if d.Err() != nil || h.done {
			return
		}
		res := MultiResult{Op: h.op, Err: h.err}
		switch h.op {
		case OpCreate:
			res.Path = d.String()
		case OpCreate2:
			res.Path = d.String()
			res.Stat = decodeStat(d)
		case OpSetData:
			res.Stat = decodeStat(d)
		case OpGetData:
			res.Data = d.Buffer()
			res.Stat = decodeStat(d)
		case OpGetChildren:
			res.Children = d.Strings()
		case OpDelete, OpCheck:
		case OpError:
			// The body's code is authoritative, as in Java's MultiResponse.
			res.Err = Error(d.Int32())
		default:
			d.fail("multi result type %d", int32(h.op))
			return
		}
		if d.Err() != nil {
			return
		}
		r.Results = append(r.Results, res)
	}
}

// decodeStat reads a Stat into a new pointer for MultiResult.
func decodeStat(d *Decoder) *Stat {
	s := d.Stat()
	return &s
}
