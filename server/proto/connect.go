package proto

// ConnectRequest is the client's first packet. The trailing readOnly byte is
// optional (go-zk omits it: 44 bytes; Java and kazoo send it: 45 bytes), and
// HasReadOnly records whether it was present so the reply can mirror it.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// Encode implements Record; the readOnly byte is written only if HasReadOnly.
func (r *ConnectRequest) Encode(e *Encoder) {
	e.Int32(r.ProtocolVersion)
	e.Int64(r.LastZxidSeen)
	e.Int32(r.TimeOut)
	e.Int64(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode implements Record; a missing readOnly byte is not an error.
func (r *ConnectRequest) Decode(d *Decoder) {
	r.ProtocolVersion = d.Int32()
	r.LastZxidSeen = d.Int64()
	r.TimeOut = d.Int32()
	r.SessionID = d.Int64()
	r.Passwd = d.Buffer()
	r.ReadOnly, r.HasReadOnly = optionalBool(d)
}

// ConnectResponse is the server's first packet. As with ConnectRequest, the
// readOnly byte is written only if HasReadOnly (36 or 37 bytes).
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// Encode implements Record.
func (r *ConnectResponse) Encode(e *Encoder) {
	e.Int32(r.ProtocolVersion)
	e.Int32(r.TimeOut)
	e.Int64(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode implements Record; a missing readOnly byte is not an error.
func (r *ConnectResponse) Decode(d *Decoder) {
	r.ProtocolVersion = d.Int32()
	r.TimeOut = d.Int32()
	r.SessionID = d.Int64()
	r.Passwd = d.Buffer()
	r.ReadOnly, r.HasReadOnly = optionalBool(d)
}

// optionalBool reads a trailing boolean if one is left, like ZooKeeper's
// try-read of the readOnly flag.
func optionalBool(d *Decoder) (v, present bool) {
	if d.Err() != nil || d.Remaining() < 1 {
		return false, false
	}
	return d.Bool(), true
}
