package proto

// CreateRequest is the body of create (1), create2 (15) and createContainer (19).
type CreateRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags CreateMode
}

// Encode implements Record.
func (r *CreateRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.ACLs(r.ACL)
	e.Int32(int32(r.Flags))
}

// Decode implements Record.
func (r *CreateRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = d.ACLs()
	r.Flags = CreateMode(d.Int32())
}

// CreateTTLRequest is the body of createTTL (21): a CreateRequest plus a TTL in
// milliseconds. Inside multi it also carries op 1, 15 and 19 creates (TTL 0,
// not encoded for those ops).
type CreateTTLRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags CreateMode
	TTL   int64
}

// Encode implements Record.
func (r *CreateTTLRequest) Encode(e *Encoder) {
	r.encodeCreate(e)
	e.Int64(r.TTL)
}

// Decode implements Record.
func (r *CreateTTLRequest) Decode(d *Decoder) {
	r.decodeCreate(d)
	r.TTL = d.Int64()
}

// encodeCreate writes the fields shared with CreateRequest.
func (r *CreateTTLRequest) encodeCreate(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.ACLs(r.ACL)
	e.Int32(int32(r.Flags))
}

// decodeCreate reads the fields shared with CreateRequest.
func (r *CreateTTLRequest) decodeCreate(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = d.ACLs()
	r.Flags = CreateMode(d.Int32())
}

// DeleteRequest is the body of delete (2).
type DeleteRequest struct {
	Path    string
	Version int32
}

// Encode implements Record.
func (r *DeleteRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Int32(r.Version)
}

// Decode implements Record.
func (r *DeleteRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Version = d.Int32()
}

// PathWatchRequest is the body of exists (3), getData (4), getChildren (8) and
// getChildren2 (12): a path and whether to leave a watch.
type PathWatchRequest struct {
	Path  string
	Watch bool
}

// Encode implements Record.
func (r *PathWatchRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Bool(r.Watch)
}

// Decode implements Record.
func (r *PathWatchRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Watch = d.Bool()
}

// SetDataRequest is the body of setData (5).
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

// Encode implements Record.
func (r *SetDataRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.Int32(r.Version)
}

// Decode implements Record.
func (r *SetDataRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.Version = d.Int32()
}

// PathRequest is a body holding only a path: getACL (6), sync (9),
// deleteContainer (20; a buffer on the wire, byte-identical to a ustring),
// getEphemerals (103, a prefix) and getAllChildrenNumber (104).
type PathRequest struct {
	Path string
}

// Encode implements Record.
func (r *PathRequest) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *PathRequest) Decode(d *Decoder) { r.Path = d.String() }

// SetACLRequest is the body of setACL (7); Version is compared with aversion.
type SetACLRequest struct {
	Path    string
	ACL     []ACL
	Version int32
}

// Encode implements Record.
func (r *SetACLRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.ACLs(r.ACL)
	e.Int32(r.Version)
}

// Decode implements Record.
func (r *SetACLRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.ACL = d.ACLs()
	r.Version = d.Int32()
}

// CheckVersionRequest is the check (13) sub-op of multi.
type CheckVersionRequest struct {
	Path    string
	Version int32
}

// Encode implements Record.
func (r *CheckVersionRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Int32(r.Version)
}

// Decode implements Record.
func (r *CheckVersionRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Version = d.Int32()
}

// ReconfigRequest is the body of reconfig (16).
type ReconfigRequest struct {
	JoiningServers string
	LeavingServers string
	NewMembers     string
	CurConfigID    int64
}

// Encode implements Record.
func (r *ReconfigRequest) Encode(e *Encoder) {
	e.String(r.JoiningServers)
	e.String(r.LeavingServers)
	e.String(r.NewMembers)
	e.Int64(r.CurConfigID)
}

// Decode implements Record.
func (r *ReconfigRequest) Decode(d *Decoder) {
	r.JoiningServers = d.String()
	r.LeavingServers = d.String()
	r.NewMembers = d.String()
	r.CurConfigID = d.Int64()
}

// AuthPacket is the body of auth (100). Clients send Type 0 and the server
// ignores it.
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

// Encode implements Record.
func (r *AuthPacket) Encode(e *Encoder) {
	e.Int32(r.Type)
	e.String(r.Scheme)
	e.Buffer(r.Auth)
}

// Decode implements Record.
func (r *AuthPacket) Decode(d *Decoder) {
	r.Type = d.Int32()
	r.Scheme = d.String()
	r.Auth = d.Buffer()
}

// SASLRequest is the body of sasl (102); SASLResponse is its reply body.
type SASLRequest struct {
	Token []byte
}

// Encode implements Record.
func (r *SASLRequest) Encode(e *Encoder) { e.Buffer(r.Token) }

// Decode implements Record.
func (r *SASLRequest) Decode(d *Decoder) { r.Token = d.Buffer() }

// SetWatches is the body of setWatches (101) and, with V2 set, setWatches2
// (105), which adds the two persistent-watch vectors. V2 is not on the wire:
// set it from the opcode before Decode.
type SetWatches struct {
	RelativeZxid        int64
	Data                []string
	Exist               []string
	Child               []string
	Persistent          []string
	PersistentRecursive []string
	V2                  bool
}

// Encode implements Record; the persistent vectors are written only if V2.
func (r *SetWatches) Encode(e *Encoder) {
	e.Int64(r.RelativeZxid)
	e.Strings(r.Data)
	e.Strings(r.Exist)
	e.Strings(r.Child)
	if r.V2 {
		e.Strings(r.Persistent)
		e.Strings(r.PersistentRecursive)
	}
}

// Decode implements Record; the persistent vectors are read only if V2.
func (r *SetWatches) Decode(d *Decoder) {
	r.RelativeZxid = d.Int64()
	r.Data = d.Strings()
	r.Exist = d.Strings()
	r.Child = d.Strings()
	r.Persistent, r.PersistentRecursive = nil, nil
	if r.V2 {
		r.Persistent = d.Strings()
		r.PersistentRecursive = d.Strings()
	}
}

// AddWatchRequest is the body of addWatch (106); Mode is AddWatchPersistent or
// AddWatchPersistentRecursive.
type AddWatchRequest struct {
	Path string
	Mode int32
}

// Encode implements Record.
func (r *AddWatchRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Int32(r.Mode)
}

// Decode implements Record.
func (r *AddWatchRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Mode = d.Int32()
}

// WatchesRequest is the body of checkWatches (17) and removeWatches (18).
type WatchesRequest struct {
	Path string
	Type WatcherType
}

// Encode implements Record.
func (r *WatchesRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Int32(int32(r.Type))
}

// Decode implements Record.
func (r *WatchesRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Type = WatcherType(d.Int32())
}
