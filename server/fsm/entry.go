package fsm

import (
	"fmt"

	"github.com/herd-io/herd/server/proto"
)

// EntryType says what a log entry asks the state machine to do.
type EntryType uint8

// Entry types. The numbers are part of the on-disk log format: never reuse one.
const (
	// EntryCreateSession opens a session with the id, password and timeout the
	// proposer chose.
	EntryCreateSession EntryType = 1
	// EntryCloseSession closes a session (client closeSession or expiry) and
	// deletes its ephemerals.
	EntryCloseSession EntryType = 2
	// EntryRequest applies one client write request (its raw jute body).
	EntryRequest EntryType = 3
	// EntryReap deletes an empty container or an expired TTL node found by the
	// leader's periodic scan; the conditions are checked again at apply.
	EntryReap EntryType = 4
	// EntryMoveSession makes Node the owner of a session whose client
	// re-attached there; the previous owner closes its connection.
	EntryMoveSession EntryType = 5
)

// Entry is one replicated command. Everything apply needs is in it: the time and
// every random choice are stamped by the proposer, so every replica computes the
// same result.
type Entry struct {
	Type EntryType
	// Time is the proposer's wall clock in milliseconds since the epoch; it
	// becomes ctime/mtime and decides TTL expiry.
	Time    int64
	Session int64
	// Node is the server that proposed the entry for a client (its myid), 0
	// for the leader's own housekeeping and for a standalone server. A
	// session's requests are applied only from the node that owns it.
	Node int32

	// EntryCreateSession.
	Passwd  []byte
	Timeout int32

	// EntryRequest: the caller's identities (for ACL checks), the opcode and the
	// request record exactly as the client sent it (after Unmarshal, Body
	// shares the marshalled entry's bytes).
	Ids   []proto.Id
	Super bool
	Op    proto.OpCode
	Body  []byte

	// EntryReap.
	Path string
}

// Entry format versions: 1 had no Node; 2 adds it after Session.
const entryVersion = 2

// Marshal encodes e for the log.
func (e *Entry) Marshal() []byte {
	var enc proto.Encoder
	enc.Int32(entryVersion)
	enc.Int32(int32(e.Type))
	enc.Int64(e.Time)
	enc.Int64(e.Session)
	enc.Int32(e.Node)
	switch e.Type {
	case EntryCreateSession:
		enc.Buffer(e.Passwd)
		enc.Int32(e.Timeout)
	case EntryRequest:
		enc.Int32(int32(len(e.Ids)))
		for _, id := range e.Ids {
			enc.String(id.Scheme)
			enc.String(id.ID)
		}
		enc.Bool(e.Super)
		enc.Int32(int32(e.Op))
		enc.Buffer(e.Body)
	case EntryReap:
		enc.String(e.Path)
	}
	return enc.Bytes()
}

// Unmarshal decodes an entry written by Marshal.
func Unmarshal(b []byte) (*Entry, error) {
	d := proto.NewDecoder(b, len(b))
	v := d.Int32()
	if v != 1 && v != entryVersion && d.Err() == nil {
		return nil, fmt.Errorf("fsm: entry version %d not supported", v)
	}
	e := &Entry{Type: EntryType(d.Int32()), Time: d.Int64(), Session: d.Int64()}
	if v >= 2 {
		e.Node = d.Int32()
	}
	switch e.Type {
	case EntryCreateSession:
		e.Passwd = d.Buffer()
		e.Timeout = d.Int32()
	case EntryCloseSession, EntryMoveSession:
	case EntryRequest:
		n := d.Int32()
		if n < 0 || int(n) > d.Remaining() {
			return nil, fmt.Errorf("fsm: bad id count %d", n)
		}
		for i := int32(0); i < n; i++ {
			e.Ids = append(e.Ids, proto.Id{Scheme: d.String(), ID: d.String()})
		}
		e.Super = d.Bool()
		e.Op = proto.OpCode(d.Int32())
		// Body is only decoded from (FSM.applyRequest), never kept, so it
		// may share b.
		e.Body = d.BufferView()
	case EntryReap:
		e.Path = d.String()
	default:
		if d.Err() == nil {
			return nil, fmt.Errorf("fsm: unknown entry type %d", e.Type)
		}
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("fsm: decode entry: %w", err)
	}
	return e, nil
}
