package proto

import (
	"reflect"
	"slices"
	"testing"

	"github.com/herd-io/herd/internal/zkpeer"
)

// TestLiveAgainstZooKeeper proves the byte layouts against Apache ZooKeeper
// itself: every request below is encoded by this package and every reply
// decoded by it, with no bytes left over.
func TestLiveAgainstZooKeeper(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	zk := zkpeer.StartT(t, zkpeer.Options{ExtendedTypes: true})

	// 44-byte request (go-zookeeper style): the reply omits readOnly.
	_, resp44, n := dialRaw(t, zk.Addr, &ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)})
	if n != 36 || resp44.HasReadOnly || resp44.SessionID == 0 || resp44.TimeOut != 30000 || len(resp44.Passwd) != 16 {
		t.Fatalf("44-byte connect: %d-byte reply %+v", n, resp44)
	}

	// 45-byte request (Java/kazoo style): the reply carries readOnly.
	c, resp, n := dialRaw(t, zk.Addr, &ConnectRequest{TimeOut: 60000, Passwd: make([]byte, 16), HasReadOnly: true})
	if n != 37 || !resp.HasReadOnly || resp.ReadOnly || resp.TimeOut != 40000 || resp.SessionID == 0 {
		t.Fatalf("45-byte connect: %d-byte reply %+v", n, resp)
	}
	sid := resp.SessionID

	c.mustCall(OpPing, nil, nil, ErrOK)

	var cr CreateResponse
	c.mustCall(OpCreate, &CreateRequest{Path: "/proto", Data: []byte("v1"), ACL: OpenACLUnsafe}, &cr, ErrOK)
	if cr.Path != "/proto" {
		t.Fatalf("create path %q", cr.Path)
	}
	c.mustCall(OpCreate, &CreateRequest{Path: "/proto", ACL: OpenACLUnsafe}, nil, ErrNodeExists)

	var c2 Create2Response
	c.mustCall(OpCreate2, &CreateRequest{Path: "/proto/eph-", Data: []byte("e"), ACL: OpenACLUnsafe, Flags: ModeEphemeralSequential}, &c2, ErrOK)
	if c2.Path != "/proto/eph-0000000000" || c2.Stat.EphemeralOwner != sid || c2.Stat.DataLength != 1 || c2.Stat.Czxid != c2.Stat.Pzxid {
		t.Fatalf("create2: %+v", c2)
	}
	var ttl Create2Response
	c.mustCall(OpCreateTTL, &CreateTTLRequest{Path: "/proto/ttl", ACL: OpenACLUnsafe, Flags: ModePersistentWithTTL, TTL: 60000}, &ttl, ErrOK)
	var cont Create2Response
	c.mustCall(OpCreateContainer, &CreateRequest{Path: "/proto/cont", ACL: OpenACLUnsafe, Flags: ModeContainer}, &cont, ErrOK)
	if ttl.Path != "/proto/ttl" || cont.Path != "/proto/cont" {
		t.Fatalf("ttl %+v container %+v", ttl, cont)
	}

	var gd GetDataResponse
	c.mustCall(OpGetData, &PathWatchRequest{Path: "/proto", Watch: true}, &gd, ErrOK)
	if string(gd.Data) != "v1" || gd.Stat.Version != 0 || gd.Stat.DataLength != 2 || gd.Stat.NumChildren != 3 {
		t.Fatalf("getData: %+v", gd)
	}
	var nullData GetDataResponse
	c.mustCall(OpGetData, &PathWatchRequest{Path: "/proto/cont"}, &nullData, ErrOK)
	if nullData.Data != nil {
		t.Fatalf("null data decoded as %#v", nullData.Data)
	}
	c.mustCall(OpExists, &PathWatchRequest{Path: "/nope", Watch: true}, &StatResponse{}, ErrNoNode)

	var kids GetChildren2Response
	c.mustCall(OpGetChildren2, &PathWatchRequest{Path: "/proto"}, &kids, ErrOK)
	slices.Sort(kids.Children)
	if !reflect.DeepEqual(kids.Children, []string{"cont", "eph-0000000000", "ttl"}) || kids.Stat.NumChildren != 3 || kids.Stat.Cversion != 3 {
		t.Fatalf("getChildren2: %+v", kids)
	}

	// setData fires the getData watch; the event arrives before the reply.
	var sd StatResponse
	rh := c.mustCall(OpSetData, &SetDataRequest{Path: "/proto", Data: []byte("v2"), Version: 0}, &sd, ErrOK)
	if sd.Stat.Version != 1 || sd.Stat.Mzxid != rh.Zxid {
		t.Fatalf("setData: %+v zxid %d", sd, rh.Zxid)
	}
	wantEv := WatcherEvent{Type: EventNodeDataChanged, State: StateSyncConnected, Path: "/proto"}
	if len(c.events) != 1 || c.events[0] != wantEv {
		t.Fatalf("events %+v, want %+v", c.events, wantEv)
	}
	c.mustCall(OpSetData, &SetDataRequest{Path: "/proto", Version: 0}, nil, ErrBadVersion)

	// A successful multi with every result type of a write transaction.
	// ZooKeeper 3.8 rebuilds sub-ops with Op.create(path, data, acl, flags),
	// so a create2 (15) sub-op gets a create (1) result, while container and
	// TTL creates get create2 (15) results with a Stat.
	var mr MultiResponse
	rh = c.mustCall(OpMulti, &MultiRequest{Ops: []MultiOp{
		{Op: OpCreate, Create: &CreateTTLRequest{Path: "/proto/m", ACL: OpenACLUnsafe}},
		{Op: OpCreate2, Create: &CreateTTLRequest{Path: "/proto/m2", ACL: OpenACLUnsafe}},
		{Op: OpCreateContainer, Create: &CreateTTLRequest{Path: "/proto/mc", ACL: OpenACLUnsafe, Flags: ModeContainer}},
		{Op: OpCreateTTL, Create: &CreateTTLRequest{Path: "/proto/mt", ACL: OpenACLUnsafe, Flags: ModePersistentWithTTL, TTL: 60000}},
		{Op: OpSetData, SetData: &SetDataRequest{Path: "/proto/m", Data: []byte("x"), Version: -1}},
		{Op: OpCheck, Check: &CheckVersionRequest{Path: "/proto/m", Version: 1}},
		{Op: OpDelete, Delete: &DeleteRequest{Path: "/proto/m", Version: -1}},
		{Op: OpDelete, Delete: &DeleteRequest{Path: "/proto/mc", Version: -1}},
		{Op: OpDelete, Delete: &DeleteRequest{Path: "/proto/mt", Version: -1}},
	}}, &mr, ErrOK)
	types := make([]OpCode, len(mr.Results))
	for i, r := range mr.Results {
		types[i] = r.Op
	}
	wantTypes := []OpCode{OpCreate, OpCreate, OpCreate2, OpCreate2, OpSetData, OpCheck, OpDelete, OpDelete, OpDelete}
	if !slices.Equal(types, wantTypes) || mr.Results[0].Path != "/proto/m" || mr.Results[1].Path != "/proto/m2" ||
		mr.Results[2].Path != "/proto/mc" || mr.Results[2].Stat.Czxid != rh.Zxid || mr.Results[3].Stat.Czxid != rh.Zxid ||
		mr.Results[4].Stat.Version != 1 {
		t.Fatalf("multi results %+v", mr.Results)
	}

	// A failing multi: rolled back (0), the failure, then skipped (-2), all
	// as error results, with header err 0.
	var fail MultiResponse
	c.mustCall(OpMulti, &MultiRequest{Ops: []MultiOp{
		{Op: OpCreate, Create: &CreateTTLRequest{Path: "/proto/f", ACL: OpenACLUnsafe}},
		{Op: OpDelete, Delete: &DeleteRequest{Path: "/nope", Version: -1}},
		{Op: OpCheck, Check: &CheckVersionRequest{Path: "/proto", Version: 1}},
	}}, &fail, ErrOK)
	wantFail := []MultiResult{{Op: OpError, Err: ErrOK}, {Op: OpError, Err: ErrNoNode}, {Op: OpError, Err: ErrRuntimeInconsistency}}
	if !reflect.DeepEqual(fail.Results, wantFail) {
		t.Fatalf("failed multi %+v", fail.Results)
	}
	c.mustCall(OpExists, &PathWatchRequest{Path: "/proto/f"}, &StatResponse{}, ErrNoNode)

	// multiRead: independent read results.
	var rd MultiResponse
	c.mustCall(OpMultiRead, &MultiRequest{Ops: []MultiOp{
		{Op: OpGetData, Read: &PathWatchRequest{Path: "/proto"}},
		{Op: OpGetChildren, Read: &PathWatchRequest{Path: "/proto/m2"}},
		{Op: OpGetData, Read: &PathWatchRequest{Path: "/nope"}},
	}}, &rd, ErrOK)
	if len(rd.Results) != 3 || string(rd.Results[0].Data) != "v2" || rd.Results[0].Stat.Version != 1 ||
		rd.Results[1].Op != OpGetChildren || len(rd.Results[1].Children) != 0 ||
		!reflect.DeepEqual(rd.Results[2], MultiResult{Op: OpError, Err: ErrNoNode}) {
		t.Fatalf("multiRead %+v", rd.Results)
	}
	// A multi mixing reads and writes does not parse on the server either.
	var mixed MultiResponse
	c.mustCall(OpMulti, &MultiRequest{Ops: []MultiOp{
		{Op: OpCheck, Check: &CheckVersionRequest{Path: "/proto", Version: 1}},
		{Op: OpGetData, Read: &PathWatchRequest{Path: "/proto"}},
	}}, &mixed, ErrMarshallingError)

	var acl GetACLResponse
	c.mustCall(OpGetACL, &PathRequest{Path: "/proto"}, &acl, ErrOK)
	if !reflect.DeepEqual(acl.ACL, OpenACLUnsafe) || acl.Stat.Version != 1 {
		t.Fatalf("getACL %+v", acl)
	}
	var sa StatResponse
	c.mustCall(OpSetACL, &SetACLRequest{Path: "/proto/m2", ACL: OpenACLUnsafe, Version: 0}, &sa, ErrOK)
	if sa.Stat.Aversion != 1 {
		t.Fatalf("setACL %+v", sa)
	}
	var sy PathResponse
	c.mustCall(OpSync, &PathRequest{Path: "/proto"}, &sy, ErrOK)
	if sy.Path != "/proto" {
		t.Fatalf("sync %+v", sy)
	}
	var cnt CountResponse
	c.mustCall(OpGetAllChildrenNumber, &PathRequest{Path: "/proto"}, &cnt, ErrOK)
	if cnt.Count != 4 {
		t.Fatalf("getAllChildrenNumber %+v", cnt)
	}
	var eph GetEphemeralsResponse
	c.mustCall(OpGetEphemerals, &PathRequest{Path: "/"}, &eph, ErrOK)
	if !reflect.DeepEqual(eph.Paths, []string{"/proto/eph-0000000000"}) {
		t.Fatalf("getEphemerals %+v", eph)
	}

	c.mustCall(OpAuth, &AuthPacket{Scheme: "digest", Auth: []byte("user:pass")}, nil, ErrOK)
	var who WhoAmIResponse
	c.mustCall(OpWhoAmI, nil, &who, ErrOK)
	wantWho := []ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "user"}}
	if !reflect.DeepEqual(who.Infos, wantWho) {
		t.Fatalf("whoAmI %+v", who)
	}

	// addWatch replies with a 4-byte ErrorResponse; the persistent recursive
	// watch then reports a create below it.
	var aw ErrorResponse
	c.mustCall(OpAddWatch, &AddWatchRequest{Path: "/proto", Mode: AddWatchPersistentRecursive}, &aw, ErrOK)
	c.events = nil
	c.mustCall(OpCreate, &CreateRequest{Path: "/proto/m2/deep", ACL: OpenACLUnsafe}, &cr, ErrOK)
	if len(c.events) != 1 || c.events[0] != (WatcherEvent{Type: EventNodeCreated, State: StateSyncConnected, Path: "/proto/m2/deep"}) {
		t.Fatalf("addWatch events %+v", c.events)
	}
	// (ZooKeeper 3.8.0 rejects watcher types 4 and 5 here with -5; use Any.)
	c.mustCall(OpCheckWatches, &WatchesRequest{Path: "/proto", Type: WatcherAny}, nil, ErrOK)
	c.mustCall(OpRemoveWatches, &WatchesRequest{Path: "/proto", Type: WatcherAny}, nil, ErrOK)
	c.mustCall(OpCheckWatches, &WatchesRequest{Path: "/proto", Type: WatcherAny}, nil, ErrNoWatcher)

	// setWatches (101) with relativeZxid 0: the data watch on /proto is stale,
	// so a catch-up NodeDataChanged arrives before the reply. setWatches2 (105)
	// re-arms a persistent watch without an event.
	c.events = nil
	c.mustCall(OpSetWatches, &SetWatches{Data: []string{"/proto"}, Exist: []string{}, Child: []string{}}, nil, ErrOK)
	if len(c.events) != 1 || c.events[0].Type != EventNodeDataChanged || c.events[0].Path != "/proto" {
		t.Fatalf("setWatches events %+v", c.events)
	}
	c.events = nil
	c.mustCall(OpSetWatches2, &SetWatches{RelativeZxid: rh.Zxid, Data: []string{}, Exist: []string{}, Child: []string{},
		Persistent: []string{"/proto/m2"}, PersistentRecursive: []string{}, V2: true}, nil, ErrOK)
	c.mustCall(OpCheckWatches, &WatchesRequest{Path: "/proto/m2", Type: WatcherAny}, nil, ErrOK)
	if len(c.events) != 0 {
		t.Fatalf("setWatches2 events %+v", c.events)
	}

	// deleteContainer (20) is not checked here: ZooKeeper 3.8.0 reads its path
	// from the whole packet buffer, header included, so any client-sent
	// deleteContainer fails with -8 there (3.8.4 decodes a length-prefixed
	// buffer, which is what PathRequest encodes).
	c.mustCall(OpDelete, &DeleteRequest{Path: "/proto/m2/deep", Version: 0}, nil, ErrOK)
	c.mustCall(OpReconfig, &ReconfigRequest{CurConfigID: -1}, &GetDataResponse{}, ErrReconfigDisabled)
	c.mustCall(OpCloseSession, nil, nil, ErrOK)

	liveSent, liveReceived = c.sent, c.received
}

// liveSent and liveReceived hold the live test's request and reply payloads,
// for the corpus generator TestCaptureSeeds.
var liveSent, liveReceived [][]byte
