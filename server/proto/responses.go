package proto

// CreateResponse is the reply body of create (1).
type CreateResponse struct {
	Path string
}

// Encode implements Record.
func (r *CreateResponse) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *CreateResponse) Decode(d *Decoder) { r.Path = d.String() }

// Create2Response is the reply body of create2 (15), createContainer (19) and
// createTTL (21).
type Create2Response struct {
	Path string
	Stat Stat
}

// Encode implements Record.
func (r *Create2Response) Encode(e *Encoder) {
	e.String(r.Path)
	e.Stat(&r.Stat)
}

// Decode implements Record.
func (r *Create2Response) Decode(d *Decoder) {
	r.Path = d.String()
	r.Stat = d.Stat()
}

// StatResponse is the reply body of exists (3), setData (5) and setACL (7).
type StatResponse struct {
	Stat Stat
}

// Encode implements Record.
func (r *StatResponse) Encode(e *Encoder) { e.Stat(&r.Stat) }

// Decode implements Record.
func (r *StatResponse) Decode(d *Decoder) { r.Stat = d.Stat() }

// GetDataResponse is the reply body of getData (4) and reconfig (16). Data may
// be nil (encoded as -1).
type GetDataResponse struct {
	Data []byte
	Stat Stat
}

// Encode implements Record.
func (r *GetDataResponse) Encode(e *Encoder) {
	e.Buffer(r.Data)
	e.Stat(&r.Stat)
}

// Decode implements Record.
func (r *GetDataResponse) Decode(d *Decoder) {
	r.Data = d.Buffer()
	r.Stat = d.Stat()
}

// GetACLResponse is the reply body of getACL (6).
type GetACLResponse struct {
	ACL  []ACL
	Stat Stat
}

// Encode implements Record.
func (r *GetACLResponse) Encode(e *Encoder) {
	e.ACLs(r.ACL)
	e.Stat(&r.Stat)
}

// Decode implements Record.
func (r *GetACLResponse) Decode(d *Decoder) {
	r.ACL = d.ACLs()
	r.Stat = d.Stat()
}

// GetChildrenResponse is the reply body of getChildren (8).
type GetChildrenResponse struct {
	Children []string
}

// Encode implements Record.
func (r *GetChildrenResponse) Encode(e *Encoder) { e.Strings(r.Children) }

// Decode implements Record.
func (r *GetChildrenResponse) Decode(d *Decoder) { r.Children = d.Strings() }

// GetChildren2Response is the reply body of getChildren2 (12); Stat is the
// parent's.
type GetChildren2Response struct {
	Children []string
	Stat     Stat
}

// Encode implements Record.
func (r *GetChildren2Response) Encode(e *Encoder) {
	e.Strings(r.Children)
	e.Stat(&r.Stat)
}

// Decode implements Record.
func (r *GetChildren2Response) Decode(d *Decoder) {
	r.Children = d.Strings()
	r.Stat = d.Stat()
}

// PathResponse is the reply body of sync (9), which echoes the path.
type PathResponse struct {
	Path string
}

// Encode implements Record.
func (r *PathResponse) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *PathResponse) Decode(d *Decoder) { r.Path = d.String() }

// GetEphemeralsResponse is the reply body of getEphemerals (103).
type GetEphemeralsResponse struct {
	Paths []string
}

// Encode implements Record.
func (r *GetEphemeralsResponse) Encode(e *Encoder) { e.Strings(r.Paths) }

// Decode implements Record.
func (r *GetEphemeralsResponse) Decode(d *Decoder) { r.Paths = d.Strings() }

// CountResponse is the reply body of getAllChildrenNumber (104).
type CountResponse struct {
	Count int32
}

// Encode implements Record.
func (r *CountResponse) Encode(e *Encoder) { e.Int32(r.Count) }

// Decode implements Record.
func (r *CountResponse) Decode(d *Decoder) { r.Count = d.Int32() }

// ErrorResponse is the reply body of addWatch (106, always Err 0: the Java
// client requires the 4 bytes) and of error results inside multi.
type ErrorResponse struct {
	Err Error
}

// Encode implements Record.
func (r *ErrorResponse) Encode(e *Encoder) { e.Int32(int32(r.Err)) }

// Decode implements Record.
func (r *ErrorResponse) Decode(d *Decoder) { r.Err = Error(d.Int32()) }

// ClientInfo is one authenticated identity reported by whoAmI.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// WhoAmIResponse is the reply body of whoAmI (107).
type WhoAmIResponse struct {
	Infos []ClientInfo
}

// Encode implements Record; nil Infos is encoded as a null vector.
func (r *WhoAmIResponse) Encode(e *Encoder) {
	if r.Infos == nil {
		e.Int32(-1)
		return
	}
	e.Int32(int32(len(r.Infos)))
	for i := range r.Infos {
		e.String(r.Infos[i].AuthScheme)
		e.String(r.Infos[i].User)
	}
}

// Decode implements Record.
func (r *WhoAmIResponse) Decode(d *Decoder) {
	r.Infos = nil
	n := d.length("vector<ClientInfo>", minClientInfoSize)
	if n < 0 || d.Err() != nil {
		return
	}
	infos := make([]ClientInfo, n)
	for i := range infos {
		infos[i].AuthScheme = d.String()
		infos[i].User = d.String()
	}
	if d.Err() == nil {
		r.Infos = infos
	}
}

// SASLResponse is the reply body of sasl (102).
type SASLResponse struct {
	Token []byte
}

// Encode implements Record.
func (r *SASLResponse) Encode(e *Encoder) { e.Buffer(r.Token) }

// Decode implements Record.
func (r *SASLResponse) Decode(d *Decoder) { r.Token = d.Buffer() }

// WatcherEvent is the body of a notification (ReplyHeader xid -1). The server
// always sends State StateSyncConnected.
type WatcherEvent struct {
	Type  EventType
	State int32
	Path  string
}

// Encode implements Record.
func (r *WatcherEvent) Encode(e *Encoder) {
	e.Int32(int32(r.Type))
	e.Int32(r.State)
	e.String(r.Path)
}

// Decode implements Record.
func (r *WatcherEvent) Decode(d *Decoder) {
	r.Type = EventType(d.Int32())
	r.State = d.Int32()
	r.Path = d.String()
}
