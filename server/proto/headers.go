package proto

// RequestHeader precedes every request after the connect handshake.
type RequestHeader struct {
	Xid int32
	Op  OpCode
}

// Encode implements Record.
func (r *RequestHeader) Encode(e *Encoder) {
	e.Int32(r.Xid)
	e.Int32(int32(r.Op))
}

// Decode implements Record.
func (r *RequestHeader) Decode(d *Decoder) {
	r.Xid = d.Int32()
	r.Op = OpCode(d.Int32())
}

// ReplyHeader precedes every reply and notification after the handshake.
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  Error
}

// Encode implements Record.
func (r *ReplyHeader) Encode(e *Encoder) {
	e.Int32(r.Xid)
	e.Int64(r.Zxid)
	e.Int32(int32(r.Err))
}

// Decode implements Record.
func (r *ReplyHeader) Decode(d *Decoder) {
	r.Xid = d.Int32()
	r.Zxid = d.Int64()
	r.Err = Error(d.Int32())
}
