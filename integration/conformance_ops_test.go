package integration

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// This file turns each request of §4 of the protocol reference into a step:
// the request bytes and a decoder that prints the success body normalised.

var (
	open     = proto.OpenACLUnsafe
	readOnly = proto.ReadACLUnsafe
	creator  = proto.CreatorAllACL
)

// digestID is the id ZooKeeper stores for digest user:password.
func digestID(user, password string) string {
	sum := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// decoder prints a success body; it must consume the whole body.
type decoder func(d *proto.Decoder, n *normaliser) string

// req is a step sending op with body (nil for none) encoded as its request record.
func req(c int, op proto.OpCode, desc string, body proto.Record, out decoder) step {
	return step{client: c, desc: op.String() + " " + desc, act: requestAct(op, encode(body), out)}
}

func createBody(path string, d []byte, acl []proto.ACL, mode proto.CreateMode) *proto.CreateRequest {
	return &proto.CreateRequest{Path: path, Data: d, ACL: acl, Flags: mode}
}

func pathWatch(path string, watch bool) *proto.PathWatchRequest {
	return &proto.PathWatchRequest{Path: path, Watch: watch}
}

func pathOnly(path string) *proto.PathRequest { return &proto.PathRequest{Path: path} }

func decPath(d *proto.Decoder, n *normaliser) string {
	var r proto.PathResponse
	r.Decode(d)
	return "path=" + r.Path
}

func decPathStat(d *proto.Decoder, n *normaliser) string {
	var r proto.Create2Response
	r.Decode(d)
	return "path=" + r.Path + " " + n.stat(r.Stat)
}

func decStat(d *proto.Decoder, n *normaliser) string {
	var r proto.StatResponse
	r.Decode(d)
	return n.stat(r.Stat)
}

func decData(d *proto.Decoder, n *normaliser) string {
	var r proto.GetDataResponse
	r.Decode(d)
	return "data=" + data(r.Data) + " " + n.stat(r.Stat)
}

func decChildren(d *proto.Decoder, n *normaliser) string {
	var r proto.GetChildrenResponse
	r.Decode(d)
	return "children=" + sortedList(r.Children)
}

func decChildren2(d *proto.Decoder, n *normaliser) string {
	var r proto.GetChildren2Response
	r.Decode(d)
	return "children=" + sortedList(r.Children) + " " + n.stat(r.Stat)
}

func decACL(d *proto.Decoder, n *normaliser) string {
	var r proto.GetACLResponse
	r.Decode(d)
	return "acl=" + acls(r.ACL) + " " + n.stat(r.Stat)
}

func decErrBody(d *proto.Decoder, n *normaliser) string {
	var r proto.ErrorResponse
	r.Decode(d)
	return fmt.Sprintf("body.err=%d", int32(r.Err))
}

func decCount(d *proto.Decoder, n *normaliser) string {
	var r proto.CountResponse
	r.Decode(d)
	return fmt.Sprintf("count=%d", r.Count)
}

func decEphemerals(d *proto.Decoder, n *normaliser) string {
	var r proto.GetEphemeralsResponse
	r.Decode(d)
	return "ephemerals=" + sortedList(r.Paths)
}

func decWhoAmI(d *proto.Decoder, n *normaliser) string {
	var r proto.WhoAmIResponse
	r.Decode(d)
	var ids []string // nil when empty: "nil" for both a null and an empty vector
	for _, ci := range r.Infos {
		ids = append(ids, ci.AuthScheme+":"+ci.User)
	}
	return "clientInfo=" + sortedList(ids)
}

func create(c int, path string, d []byte, acl []proto.ACL, mode proto.CreateMode) step {
	return req(c, proto.OpCreate, fmt.Sprintf("%q mode=%d", path, mode), createBody(path, d, acl, mode), decPath)
}

func create2(c int, path string, d []byte, acl []proto.ACL, mode proto.CreateMode) step {
	return req(c, proto.OpCreate2, fmt.Sprintf("%q mode=%d", path, mode), createBody(path, d, acl, mode), decPathStat)
}

func createContainer(c int, path string, d []byte, mode proto.CreateMode) step {
	return req(c, proto.OpCreateContainer, fmt.Sprintf("%q mode=%d", path, mode), createBody(path, d, open, mode), decPathStat)
}

func createTTL(c int, path string, d []byte, mode proto.CreateMode, ttl int64) step {
	return req(c, proto.OpCreateTTL, fmt.Sprintf("%q mode=%d ttl=%d", path, mode, ttl),
		&proto.CreateTTLRequest{Path: path, Data: d, ACL: open, Flags: mode, TTL: ttl}, decPathStat)
}

func del(c int, path string, version int32) step {
	return req(c, proto.OpDelete, fmt.Sprintf("%q v=%d", path, version), &proto.DeleteRequest{Path: path, Version: version}, nil)
}

func exists(c int, path string, watch bool) step {
	return req(c, proto.OpExists, fmt.Sprintf("%q watch=%v", path, watch), pathWatch(path, watch), decStat)
}

func getData(c int, path string, watch bool) step {
	return req(c, proto.OpGetData, fmt.Sprintf("%q watch=%v", path, watch), pathWatch(path, watch), decData)
}

func getChildren(c int, path string, watch bool) step {
	return req(c, proto.OpGetChildren, fmt.Sprintf("%q watch=%v", path, watch), pathWatch(path, watch), decChildren)
}

func getChildren2(c int, path string, watch bool) step {
	return req(c, proto.OpGetChildren2, fmt.Sprintf("%q watch=%v", path, watch), pathWatch(path, watch), decChildren2)
}

func setData(c int, path string, d []byte, version int32) step {
	return req(c, proto.OpSetData, fmt.Sprintf("%q %s v=%d", path, data(d), version),
		&proto.SetDataRequest{Path: path, Data: d, Version: version}, decStat)
}

func getACL(c int, path string) step {
	return req(c, proto.OpGetACL, fmt.Sprintf("%q", path), pathOnly(path), decACL)
}

func setACL(c int, path string, acl []proto.ACL, version int32) step {
	return req(c, proto.OpSetACL, fmt.Sprintf("%q %s v=%d", path, acls(acl), version),
		&proto.SetACLRequest{Path: path, ACL: acl, Version: version}, decStat)
}

func syncPath(c int, path string) step {
	return req(c, proto.OpSync, fmt.Sprintf("%q", path), pathOnly(path), decPath)
}

func checkWatches(c int, path string, typ proto.WatcherType) step {
	return req(c, proto.OpCheckWatches, fmt.Sprintf("%q type=%d", path, typ), &proto.WatchesRequest{Path: path, Type: typ}, nil)
}

func removeWatches(c int, path string, typ proto.WatcherType) step {
	return req(c, proto.OpRemoveWatches, fmt.Sprintf("%q type=%d", path, typ), &proto.WatchesRequest{Path: path, Type: typ}, nil)
}

func addWatch(c int, path string, mode int32) step {
	return req(c, proto.OpAddWatch, fmt.Sprintf("%q mode=%d", path, mode), &proto.AddWatchRequest{Path: path, Mode: mode}, decErrBody)
}

func getEphemerals(c int, prefix string) step {
	return req(c, proto.OpGetEphemerals, fmt.Sprintf("%q", prefix), pathOnly(prefix), decEphemerals)
}

func getAllChildrenNumber(c int, path string) step {
	return req(c, proto.OpGetAllChildrenNumber, fmt.Sprintf("%q", path), pathOnly(path), decCount)
}

// deleteContainer sends op 20, whose body is one buffer holding the path (a
// jute buffer and a ustring of the same bytes encode identically).
func deleteContainer(c int, path string) step {
	return req(c, proto.OpDeleteContainer, fmt.Sprintf("%q", path), pathOnly(path), nil)
}

func whoAmI(c int) step { return req(c, proto.OpWhoAmI, "", nil, decWhoAmI) }

func reconfig(c int) step {
	return req(c, proto.OpReconfig, "", &proto.ReconfigRequest{CurConfigID: -1}, decData)
}

// rawOp sends an opcode with an arbitrary body (unknown or invalid requests).
func rawOp(c int, op proto.OpCode, body []byte) step {
	return step{client: c, desc: fmt.Sprintf("raw op %d (%d-byte body)", op, len(body)), act: requestAct(op, body, nil)}
}

// mop is one sub-operation of a multi or multiRead.
type mop struct {
	desc string
	op   proto.MultiOp
}

func mCreate(path string, d []byte, mode proto.CreateMode) mop {
	return mop{fmt.Sprintf("create %q mode=%d", path, mode),
		proto.MultiOp{Op: proto.OpCreate, Create: &proto.CreateTTLRequest{Path: path, Data: d, ACL: open, Flags: mode}}}
}

func mCreate2(path string, d []byte, mode proto.CreateMode) mop {
	return mop{fmt.Sprintf("create2 %q mode=%d", path, mode),
		proto.MultiOp{Op: proto.OpCreate2, Create: &proto.CreateTTLRequest{Path: path, Data: d, ACL: open, Flags: mode}}}
}

func mCreateContainer(path string) mop {
	return mop{fmt.Sprintf("createContainer %q", path),
		proto.MultiOp{Op: proto.OpCreateContainer, Create: &proto.CreateTTLRequest{Path: path, ACL: open, Flags: proto.ModeContainer}}}
}

func mDelete(path string, version int32) mop {
	return mop{fmt.Sprintf("delete %q v=%d", path, version),
		proto.MultiOp{Op: proto.OpDelete, Delete: &proto.DeleteRequest{Path: path, Version: version}}}
}

func mSetData(path string, d []byte, version int32) mop {
	return mop{fmt.Sprintf("setData %q v=%d", path, version),
		proto.MultiOp{Op: proto.OpSetData, SetData: &proto.SetDataRequest{Path: path, Data: d, Version: version}}}
}

func mCheck(path string, version int32) mop {
	return mop{fmt.Sprintf("check %q v=%d", path, version),
		proto.MultiOp{Op: proto.OpCheck, Check: &proto.CheckVersionRequest{Path: path, Version: version}}}
}

func mGetData(path string) mop {
	return mop{fmt.Sprintf("getData %q", path), proto.MultiOp{Op: proto.OpGetData, Read: pathWatch(path, false)}}
}

func mGetChildren(path string) mop {
	return mop{fmt.Sprintf("getChildren %q", path), proto.MultiOp{Op: proto.OpGetChildren, Read: pathWatch(path, false)}}
}

// multiBody is the request of a multi or multiRead. Its encoding does not
// check the sub-ops, so reads mixed with writes are sent as given.
func multiBody(ops []mop) *proto.MultiRequest {
	r := &proto.MultiRequest{Ops: make([]proto.MultiOp, len(ops))}
	for i, o := range ops {
		r.Ops[i] = o.op
	}
	return r
}

func multiDesc(ops []mop) string {
	d := make([]string, len(ops))
	for i, o := range ops {
		d[i] = o.desc
	}
	return "[" + strings.Join(d, "; ") + "]"
}

func multi(c int, ops ...mop) step {
	return req(c, proto.OpMulti, multiDesc(ops), multiBody(ops), decMulti)
}

func multiRead(c int, ops ...mop) step {
	return req(c, proto.OpMultiRead, multiDesc(ops), multiBody(ops), decMulti)
}

// decMulti prints every per-op result header and body up to the terminator.
// It reads the headers itself (proto.MultiResponse keeps neither the
// terminator nor the header code of an error result) and prints results of
// any type.
func decMulti(d *proto.Decoder, n *normaliser) string {
	var parts []string
	for d.Err() == nil {
		typ := d.Int32()
		done := d.Bool()
		code := d.Int32()
		if done {
			parts = append(parts, fmt.Sprintf("end(%d,%d)", typ, code))
			break
		}
		var body string
		switch proto.OpCode(typ) {
		case proto.OpCreate:
			body = decPath(d, n)
		case proto.OpCreate2:
			body = decPathStat(d, n)
		case proto.OpSetData:
			body = decStat(d, n)
		case proto.OpGetData:
			body = decData(d, n)
		case proto.OpGetChildren:
			body = decChildren(d, n)
		case proto.OpError:
			body = decErrBody(d, n)
		}
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s err=%d %s", proto.OpCode(typ), code, body)))
	}
	return "results=[" + strings.Join(parts, "; ") + "]"
}

// setWatchesBody encodes the SetWatches record of op: three lists (data,
// exist, child) for setWatches, five (plus persistent, persistentRecursive)
// for setWatches2. A nil list is sent as an empty vector, not a null one.
func setWatchesBody(op proto.OpCode, rel int64, lists ...[]string) []byte {
	sw := proto.SetWatches{RelativeZxid: rel, V2: op == proto.OpSetWatches2}
	fields := []*[]string{&sw.Data, &sw.Exist, &sw.Child}
	if sw.V2 {
		fields = append(fields, &sw.Persistent, &sw.PersistentRecursive)
	}
	if len(lists) != len(fields) {
		panic(fmt.Sprintf("%v takes %d watch lists, not %d", op, len(fields), len(lists)))
	}
	for i, l := range lists {
		if l == nil {
			l = []string{}
		}
		*fields[i] = l
	}
	return encode(&sw)
}
