package proto

// Sample values shared by the round-trip, truncation and golden tests.

var sampleStat = Stat{
	Czxid: 0x0102030405060708, Mzxid: 2, Ctime: 1700000000000, Mtime: 1700000000001,
	Version: 3, Cversion: -4, Aversion: 5, EphemeralOwner: 0x7fffffffffffffff,
	DataLength: 6, NumChildren: 7, Pzxid: -8,
}

var sampleACL = []ACL{
	{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}},
	{Perms: PermRead | PermAdmin, ID: Id{Scheme: "digest", ID: "u:hash="}},
	{Perms: PermAll, ID: Id{Scheme: "auth", ID: ""}},
}

var passwd16 = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// recordCase is one record value with a constructor for an empty record of the
// same kind (SetWatches must know its layout before Decode).
type recordCase struct {
	name  string
	rec   Record
	fresh func() Record
	// optionalTail is the number of trailing bytes whose absence is valid
	// (the readOnly byte of the connect records).
	optionalTail int
}

func recordCases() []recordCase {
	st := sampleStat
	return []recordCase{
		{name: "RequestHeader", rec: &RequestHeader{Xid: 7, Op: OpGetChildren2}, fresh: func() Record { return &RequestHeader{} }},
		{name: "ReplyHeader", rec: &ReplyHeader{Xid: -1, Zxid: -1, Err: ErrNoNode}, fresh: func() Record { return &ReplyHeader{} }},
		{name: "ConnectRequest44", rec: &ConnectRequest{LastZxidSeen: 9, TimeOut: 30000, SessionID: 0x100, Passwd: passwd16}, fresh: func() Record { return &ConnectRequest{} }},
		{name: "ConnectRequest45", rec: &ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), ReadOnly: true, HasReadOnly: true}, fresh: func() Record { return &ConnectRequest{} }, optionalTail: 1},
		{name: "ConnectResponse36", rec: &ConnectResponse{TimeOut: 4000, SessionID: 0x1234, Passwd: passwd16}, fresh: func() Record { return &ConnectResponse{} }},
		{name: "ConnectResponse37", rec: &ConnectResponse{TimeOut: 4000, SessionID: 0x1234, Passwd: passwd16, HasReadOnly: true}, fresh: func() Record { return &ConnectResponse{} }, optionalTail: 1},
		{name: "CreateRequest", rec: &CreateRequest{Path: "/a/b", Data: []byte("data"), ACL: sampleACL, Flags: ModeEphemeralSequential}, fresh: func() Record { return &CreateRequest{} }},
		{name: "CreateRequestNullData", rec: &CreateRequest{Path: "/a", ACL: sampleACL[:1], Flags: ModeContainer}, fresh: func() Record { return &CreateRequest{} }},
		{name: "CreateTTLRequest", rec: &CreateTTLRequest{Path: "/t", Data: []byte{}, ACL: sampleACL, Flags: ModePersistentWithTTL, TTL: 60000}, fresh: func() Record { return &CreateTTLRequest{} }},
		{name: "DeleteRequest", rec: &DeleteRequest{Path: "/d", Version: -1}, fresh: func() Record { return &DeleteRequest{} }},
		{name: "PathWatchRequest", rec: &PathWatchRequest{Path: "/w", Watch: true}, fresh: func() Record { return &PathWatchRequest{} }},
		{name: "SetDataRequest", rec: &SetDataRequest{Path: "/s", Data: []byte("v2"), Version: 4}, fresh: func() Record { return &SetDataRequest{} }},
		{name: "PathRequest", rec: &PathRequest{Path: "/zookeeper/config"}, fresh: func() Record { return &PathRequest{} }},
		{name: "SetACLRequest", rec: &SetACLRequest{Path: "/acl", ACL: sampleACL, Version: 2}, fresh: func() Record { return &SetACLRequest{} }},
		{name: "CheckVersionRequest", rec: &CheckVersionRequest{Path: "/c", Version: 9}, fresh: func() Record { return &CheckVersionRequest{} }},
		{name: "ReconfigRequest", rec: &ReconfigRequest{JoiningServers: "server.2=h:2888:3888", LeavingServers: "1", NewMembers: "", CurConfigID: -1}, fresh: func() Record { return &ReconfigRequest{} }},
		{name: "AuthPacket", rec: &AuthPacket{Scheme: "digest", Auth: []byte("user:pass")}, fresh: func() Record { return &AuthPacket{} }},
		{name: "SASLRequest", rec: &SASLRequest{Token: []byte{0, 1, 2}}, fresh: func() Record { return &SASLRequest{} }},
		{name: "SetWatches", rec: &SetWatches{RelativeZxid: 77, Data: []string{"/a", "/b"}, Exist: []string{}, Child: nil}, fresh: func() Record { return &SetWatches{} }},
		{name: "SetWatches2", rec: &SetWatches{RelativeZxid: 77, Data: []string{"/a"}, Exist: []string{"/x"}, Child: []string{"/"}, Persistent: []string{"/p"}, PersistentRecursive: []string{"/r", "/r2"}, V2: true}, fresh: func() Record { return &SetWatches{V2: true} }},
		{name: "AddWatchRequest", rec: &AddWatchRequest{Path: "/aw", Mode: AddWatchPersistentRecursive}, fresh: func() Record { return &AddWatchRequest{} }},
		{name: "WatchesRequest", rec: &WatchesRequest{Path: "/cw", Type: WatcherAny}, fresh: func() Record { return &WatchesRequest{} }},
		{name: "CreateResponse", rec: &CreateResponse{Path: "/a/b0000000001"}, fresh: func() Record { return &CreateResponse{} }},
		{name: "Create2Response", rec: &Create2Response{Path: "/c2", Stat: st}, fresh: func() Record { return &Create2Response{} }},
		{name: "StatResponse", rec: &StatResponse{Stat: st}, fresh: func() Record { return &StatResponse{} }},
		{name: "GetDataResponse", rec: &GetDataResponse{Data: []byte("hello"), Stat: st}, fresh: func() Record { return &GetDataResponse{} }},
		{name: "GetDataResponseNull", rec: &GetDataResponse{Stat: st}, fresh: func() Record { return &GetDataResponse{} }},
		{name: "GetACLResponse", rec: &GetACLResponse{ACL: sampleACL, Stat: st}, fresh: func() Record { return &GetACLResponse{} }},
		{name: "GetChildrenResponse", rec: &GetChildrenResponse{Children: []string{"a", "b", ""}}, fresh: func() Record { return &GetChildrenResponse{} }},
		{name: "GetChildren2Response", rec: &GetChildren2Response{Children: []string{}, Stat: st}, fresh: func() Record { return &GetChildren2Response{} }},
		{name: "PathResponse", rec: &PathResponse{Path: "/sync"}, fresh: func() Record { return &PathResponse{} }},
		{name: "GetEphemeralsResponse", rec: &GetEphemeralsResponse{Paths: []string{"/e1", "/e/2"}}, fresh: func() Record { return &GetEphemeralsResponse{} }},
		{name: "CountResponse", rec: &CountResponse{Count: 42}, fresh: func() Record { return &CountResponse{} }},
		{name: "ErrorResponse", rec: &ErrorResponse{Err: ErrRuntimeInconsistency}, fresh: func() Record { return &ErrorResponse{} }},
		{name: "WhoAmIResponse", rec: &WhoAmIResponse{Infos: []ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "u"}}}, fresh: func() Record { return &WhoAmIResponse{} }},
		{name: "WhoAmIResponseNull", rec: &WhoAmIResponse{}, fresh: func() Record { return &WhoAmIResponse{} }},
		{name: "SASLResponse", rec: &SASLResponse{Token: []byte{}}, fresh: func() Record { return &SASLResponse{} }},
		{name: "WatcherEvent", rec: &WatcherEvent{Type: EventNodeChildrenChanged, State: StateSyncConnected, Path: "/w"}, fresh: func() Record { return &WatcherEvent{} }},
		{name: "MultiRequest", rec: sampleMulti(), fresh: func() Record { return &MultiRequest{} }},
		{name: "MultiRequestEmpty", rec: &MultiRequest{}, fresh: func() Record { return &MultiRequest{} }},
		{name: "MultiRead", rec: &MultiRequest{Ops: []MultiOp{
			{Op: OpGetData, Read: &PathWatchRequest{Path: "/a"}},
			{Op: OpGetChildren, Read: &PathWatchRequest{Path: "/"}},
		}}, fresh: func() Record { return &MultiRequest{} }},
		{name: "MultiResponse", rec: sampleMultiResponse(), fresh: func() Record { return &MultiResponse{} }},
	}
}

func sampleMulti() *MultiRequest {
	return &MultiRequest{Ops: []MultiOp{
		{Op: OpCreate, Create: &CreateTTLRequest{Path: "/m1", Data: []byte("x"), ACL: sampleACL[:1], Flags: ModePersistent}},
		{Op: OpCreate2, Create: &CreateTTLRequest{Path: "/m2", ACL: sampleACL[:1], Flags: ModeEphemeral}},
		{Op: OpCreateContainer, Create: &CreateTTLRequest{Path: "/m3", Data: []byte{}, ACL: sampleACL[:1], Flags: ModeContainer}},
		{Op: OpCreateTTL, Create: &CreateTTLRequest{Path: "/m4", ACL: sampleACL[:1], Flags: ModePersistentSequentialWithTTL, TTL: 1000}},
		{Op: OpDelete, Delete: &DeleteRequest{Path: "/m1", Version: -1}},
		{Op: OpSetData, SetData: &SetDataRequest{Path: "/m2", Data: []byte("y"), Version: 0}},
		{Op: OpCheck, Check: &CheckVersionRequest{Path: "/m2", Version: 1}},
	}}
}

func sampleMultiResponse() *MultiResponse {
	st := sampleStat
	return &MultiResponse{Results: []MultiResult{
		{Op: OpCreate, Path: "/m1"},
		{Op: OpCreate2, Path: "/m2", Stat: &st},
		{Op: OpDelete},
		{Op: OpSetData, Stat: &st},
		{Op: OpCheck},
		{Op: OpGetData, Data: []byte("d"), Stat: &st},
		{Op: OpGetData, Stat: &st},
		{Op: OpGetChildren, Children: []string{"a"}},
		{Op: OpError, Err: ErrOK},
		{Op: OpError, Err: ErrNoNode},
		{Op: OpError, Err: ErrRuntimeInconsistency},
	}}
}
