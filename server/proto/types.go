package proto

import "fmt"

// OpCode identifies a request type on the wire (ZooDefs.OpCode).
type OpCode int32

// Request opcodes, as numbered by ZooKeeper 3.8's ZooDefs.OpCode.
const (
	OpNotification         OpCode = 0
	OpCreate               OpCode = 1
	OpDelete               OpCode = 2
	OpExists               OpCode = 3
	OpGetData              OpCode = 4
	OpSetData              OpCode = 5
	OpGetACL               OpCode = 6
	OpSetACL               OpCode = 7
	OpGetChildren          OpCode = 8
	OpSync                 OpCode = 9
	OpPing                 OpCode = 11
	OpGetChildren2         OpCode = 12
	OpCheck                OpCode = 13
	OpMulti                OpCode = 14
	OpCreate2              OpCode = 15
	OpReconfig             OpCode = 16
	OpCheckWatches         OpCode = 17
	OpRemoveWatches        OpCode = 18
	OpCreateContainer      OpCode = 19
	OpDeleteContainer      OpCode = 20
	OpCreateTTL            OpCode = 21
	OpMultiRead            OpCode = 22
	OpAuth                 OpCode = 100
	OpSetWatches           OpCode = 101
	OpSASL                 OpCode = 102
	OpGetEphemerals        OpCode = 103
	OpGetAllChildrenNumber OpCode = 104
	OpSetWatches2          OpCode = 105
	OpAddWatch             OpCode = 106
	OpWhoAmI               OpCode = 107
	OpCreateSession        OpCode = -10
	OpCloseSession         OpCode = -11
	OpError                OpCode = -1
)

var opNames = map[OpCode]string{
	OpNotification: "notification", OpCreate: "create", OpDelete: "delete", OpExists: "exists",
	OpGetData: "getData", OpSetData: "setData", OpGetACL: "getACL", OpSetACL: "setACL",
	OpGetChildren: "getChildren", OpSync: "sync", OpPing: "ping", OpGetChildren2: "getChildren2",
	OpCheck: "check", OpMulti: "multi", OpCreate2: "create2", OpReconfig: "reconfig",
	OpCheckWatches: "checkWatches", OpRemoveWatches: "removeWatches", OpCreateContainer: "createContainer",
	OpDeleteContainer: "deleteContainer", OpCreateTTL: "createTTL", OpMultiRead: "multiRead",
	OpAuth: "auth", OpSetWatches: "setWatches", OpSASL: "sasl", OpGetEphemerals: "getEphemerals",
	OpGetAllChildrenNumber: "getAllChildrenNumber", OpSetWatches2: "setWatches2", OpAddWatch: "addWatch",
	OpWhoAmI: "whoAmI", OpCreateSession: "createSession", OpCloseSession: "closeSession", OpError: "error",
}

// String returns ZooKeeper's name for the opcode (as the cons command prints it).
func (o OpCode) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("unknown(%d)", int32(o))
}

// Special xids carried in request and reply headers.
const (
	XidNotification int32 = -1
	XidPing         int32 = -2
	XidAuth         int32 = -4
	XidSetWatches   int32 = -8
)

// Error is a ZooKeeper error code (KeeperException.Code). The zero value is OK and
// is never returned as an error; every other value is an error.
type Error int32

// ZooKeeper error codes, as numbered by KeeperException.Code in 3.8.
const (
	ErrOK                      Error = 0
	ErrSystemError             Error = -1
	ErrRuntimeInconsistency    Error = -2
	ErrDataInconsistency       Error = -3
	ErrConnectionLoss          Error = -4
	ErrMarshallingError        Error = -5
	ErrUnimplemented           Error = -6
	ErrOperationTimeout        Error = -7
	ErrBadArguments            Error = -8
	ErrUnknownSession          Error = -12
	ErrNewConfigNoQuorum       Error = -13
	ErrReconfigInProgress      Error = -14
	ErrAPIError                Error = -100
	ErrNoNode                  Error = -101
	ErrNoAuth                  Error = -102
	ErrBadVersion              Error = -103
	ErrNoChildrenForEphemerals Error = -108
	ErrNodeExists              Error = -110
	ErrNotEmpty                Error = -111
	ErrSessionExpired          Error = -112
	ErrInvalidCallback         Error = -113
	ErrInvalidACL              Error = -114
	ErrAuthFailed              Error = -115
	ErrSessionMoved            Error = -118
	ErrNotReadOnly             Error = -119
	ErrEphemeralOnLocalSession Error = -120
	ErrNoWatcher               Error = -121
	ErrRequestTimeout          Error = -122
	ErrReconfigDisabled        Error = -123
	ErrQuotaExceeded           Error = -125
	ErrThrottledOp             Error = -127
)

var errNames = map[Error]string{
	ErrOK: "ok", ErrSystemError: "system error", ErrRuntimeInconsistency: "runtime inconsistency",
	ErrDataInconsistency: "data inconsistency", ErrConnectionLoss: "connection loss",
	ErrMarshallingError: "marshalling error", ErrUnimplemented: "unimplemented",
	ErrOperationTimeout: "operation timeout", ErrBadArguments: "bad arguments",
	ErrUnknownSession: "unknown session", ErrNewConfigNoQuorum: "new config no quorum",
	ErrReconfigInProgress: "reconfig in progress", ErrAPIError: "api error", ErrNoNode: "node does not exist",
	ErrNoAuth: "not authenticated", ErrBadVersion: "bad version",
	ErrNoChildrenForEphemerals: "ephemeral nodes may not have children", ErrNodeExists: "node already exists",
	ErrNotEmpty: "node has children", ErrSessionExpired: "session has been expired by the server",
	ErrInvalidCallback: "invalid callback", ErrInvalidACL: "invalid ACL specified",
	ErrAuthFailed: "client authentication failed", ErrSessionMoved: "session moved to another server",
	ErrNotReadOnly: "not a read-only call", ErrEphemeralOnLocalSession: "ephemeral on local session",
	ErrNoWatcher: "no such watcher", ErrRequestTimeout: "request timeout",
	ErrReconfigDisabled: "reconfig is disabled", ErrQuotaExceeded: "quota has exceeded",
	ErrThrottledOp: "op throttled due to high load",
}

// Error implements the error interface.
func (e Error) Error() string {
	if n, ok := errNames[e]; ok {
		return "zk: " + n
	}
	return fmt.Sprintf("zk: unknown error %d", int32(e))
}

// Code returns e as a wire error code; nil maps to ErrOK and any error that is not
// an Error maps to ErrSystemError.
func Code(err error) Error {
	if err == nil {
		return ErrOK
	}
	var e Error
	if asError(err, &e) {
		return e
	}
	return ErrSystemError
}

// Permission bits of an ACL entry (ZooDefs.Perms).
const (
	PermRead   int32 = 1
	PermWrite  int32 = 2
	PermCreate int32 = 4
	PermDelete int32 = 8
	PermAdmin  int32 = 16
	PermAll    int32 = 31
)

// Id is an authentication identity: a scheme and an id within it.
type Id struct {
	Scheme string
	ID     string
}

// ACL is one access-control entry: permissions granted to an identity.
type ACL struct {
	Perms int32
	ID    Id
}

// Standard ACL lists (ZooDefs.Ids).
var (
	OpenACLUnsafe = []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}}
	CreatorAllACL = []ACL{{Perms: PermAll, ID: Id{Scheme: "auth", ID: ""}}}
	ReadACLUnsafe = []ACL{{Perms: PermRead, ID: Id{Scheme: "world", ID: "anyone"}}}
)

// Stat is a znode's metadata record (68 bytes on the wire).
type Stat struct {
	Czxid          int64
	Mzxid          int64
	Ctime          int64
	Mtime          int64
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	DataLength     int32
	NumChildren    int32
	Pzxid          int64
}

// CreateMode is the flags field of a create request.
type CreateMode int32

// Create modes (CreateMode.java).
const (
	ModePersistent                  CreateMode = 0
	ModeEphemeral                   CreateMode = 1
	ModePersistentSequential        CreateMode = 2
	ModeEphemeralSequential         CreateMode = 3
	ModeContainer                   CreateMode = 4
	ModePersistentWithTTL           CreateMode = 5
	ModePersistentSequentialWithTTL CreateMode = 6
)

// Valid reports whether m is one of the seven modes ZooKeeper knows.
func (m CreateMode) Valid() bool { return m >= 0 && m <= 6 }

// Ephemeral reports whether nodes of this mode belong to a session.
func (m CreateMode) Ephemeral() bool { return m == ModeEphemeral || m == ModeEphemeralSequential }

// Sequential reports whether the server appends a sequence suffix.
func (m CreateMode) Sequential() bool {
	return m == ModePersistentSequential || m == ModeEphemeralSequential || m == ModePersistentSequentialWithTTL
}

// TTL reports whether the mode is one of the two TTL modes.
func (m CreateMode) TTL() bool {
	return m == ModePersistentWithTTL || m == ModePersistentSequentialWithTTL
}

// EventType is the type of a watch notification (Watcher.Event.EventType).
type EventType int32

// Event types the server sends.
const (
	EventNone                EventType = -1
	EventNodeCreated         EventType = 1
	EventNodeDeleted         EventType = 2
	EventNodeDataChanged     EventType = 3
	EventNodeChildrenChanged EventType = 4
)

// StateSyncConnected is the KeeperState carried by every server notification.
const StateSyncConnected int32 = 3

// WatcherType selects watches in checkWatches/removeWatches (Watcher.WatcherType).
type WatcherType int32

// Watcher types.
const (
	WatcherChildren            WatcherType = 1
	WatcherData                WatcherType = 2
	WatcherAny                 WatcherType = 3
	WatcherPersistent          WatcherType = 4
	WatcherPersistentRecursive WatcherType = 5
)

// AddWatch modes (ZooDefs.AddWatchModes).
const (
	AddWatchPersistent          int32 = 0
	AddWatchPersistentRecursive int32 = 1
)

// DefaultMaxBuffer is jute.maxbuffer's default: the largest packet either side accepts.
const DefaultMaxBuffer = 0xfffff
