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
type decoder func(d *dec, n *normaliser) string

func req(c int, op proto.OpCode, desc string, body func(e *enc), out decoder) step {
	var e enc
	if body != nil {
		body(&e)
	}
	return step{client: c, desc: op.String() + " " + desc, act: requestAct(op, e.b, out)}
}

func createBody(path string, d []byte, acl []proto.ACL, mode proto.CreateMode) func(e *enc) {
	return func(e *enc) {
		e.str(path)
		e.buf(d)
		e.acls(acl)
		e.i32(int32(mode))
	}
}

func pathWatch(path string, watch bool) func(e *enc) {
	return func(e *enc) {
		e.str(path)
		e.boolean(watch)
	}
}

func pathOnly(path string) func(e *enc) { return func(e *enc) { e.str(path) } }

func decPath(d *dec, n *normaliser) string { return "path=" + d.str() }

func decPathStat(d *dec, n *normaliser) string {
	p := d.str()
	return "path=" + p + " " + n.stat(d.stat())
}

func decStat(d *dec, n *normaliser) string { return n.stat(d.stat()) }

func decData(d *dec, n *normaliser) string {
	v := d.buf()
	return "data=" + data(v) + " " + n.stat(d.stat())
}

func decChildren(d *dec, n *normaliser) string { return "children=" + sortedList(d.strs()) }

func decChildren2(d *dec, n *normaliser) string {
	ch := d.strs()
	return "children=" + sortedList(ch) + " " + n.stat(d.stat())
}

func decACL(d *dec, n *normaliser) string {
	a := d.acls()
	return "acl=" + acls(a) + " " + n.stat(d.stat())
}

func decErrBody(d *dec, n *normaliser) string { return fmt.Sprintf("body.err=%d", d.i32()) }

func decCount(d *dec, n *normaliser) string { return fmt.Sprintf("count=%d", d.i32()) }

func decEphemerals(d *dec, n *normaliser) string { return "ephemerals=" + sortedList(d.strs()) }

func decWhoAmI(d *dec, n *normaliser) string {
	cnt := d.i32()
	var ids []string
	for i := int32(0); i < cnt && d.err == nil; i++ {
		ids = append(ids, d.str()+":"+d.str())
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
	return req(c, proto.OpCreateTTL, fmt.Sprintf("%q mode=%d ttl=%d", path, mode, ttl), func(e *enc) {
		createBody(path, d, open, mode)(e)
		e.i64(ttl)
	}, decPathStat)
}

func del(c int, path string, version int32) step {
	return req(c, proto.OpDelete, fmt.Sprintf("%q v=%d", path, version), func(e *enc) {
		e.str(path)
		e.i32(version)
	}, nil)
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
	return req(c, proto.OpSetData, fmt.Sprintf("%q %s v=%d", path, data(d), version), func(e *enc) {
		e.str(path)
		e.buf(d)
		e.i32(version)
	}, decStat)
}

func getACL(c int, path string) step {
	return req(c, proto.OpGetACL, fmt.Sprintf("%q", path), pathOnly(path), decACL)
}

func setACL(c int, path string, acl []proto.ACL, version int32) step {
	return req(c, proto.OpSetACL, fmt.Sprintf("%q %s v=%d", path, acls(acl), version), func(e *enc) {
		e.str(path)
		e.acls(acl)
		e.i32(version)
	}, decStat)
}

func syncPath(c int, path string) step {
	return req(c, proto.OpSync, fmt.Sprintf("%q", path), pathOnly(path), decPath)
}

func checkWatches(c int, path string, typ proto.WatcherType) step {
	return req(c, proto.OpCheckWatches, fmt.Sprintf("%q type=%d", path, typ), func(e *enc) {
		e.str(path)
		e.i32(int32(typ))
	}, nil)
}

func removeWatches(c int, path string, typ proto.WatcherType) step {
	return req(c, proto.OpRemoveWatches, fmt.Sprintf("%q type=%d", path, typ), func(e *enc) {
		e.str(path)
		e.i32(int32(typ))
	}, nil)
}

func addWatch(c int, path string, mode int32) step {
	return req(c, proto.OpAddWatch, fmt.Sprintf("%q mode=%d", path, mode), func(e *enc) {
		e.str(path)
		e.i32(mode)
	}, decErrBody)
}

func getEphemerals(c int, prefix string) step {
	return req(c, proto.OpGetEphemerals, fmt.Sprintf("%q", prefix), pathOnly(prefix), decEphemerals)
}

func getAllChildrenNumber(c int, path string) step {
	return req(c, proto.OpGetAllChildrenNumber, fmt.Sprintf("%q", path), pathOnly(path), decCount)
}

// deleteContainer sends op 20, whose body is one buffer holding the path.
func deleteContainer(c int, path string) step {
	return req(c, proto.OpDeleteContainer, fmt.Sprintf("%q", path), func(e *enc) { e.buf([]byte(path)) }, nil)
}

func whoAmI(c int) step { return req(c, proto.OpWhoAmI, "", nil, decWhoAmI) }

func reconfig(c int) step {
	return req(c, proto.OpReconfig, "", func(e *enc) {
		e.str("")
		e.str("")
		e.str("")
		e.i64(-1)
	}, decData)
}

// rawOp sends an opcode with an arbitrary body (unknown or invalid requests).
func rawOp(c int, op proto.OpCode, body []byte) step {
	return step{client: c, desc: fmt.Sprintf("raw op %d (%d-byte body)", op, len(body)), act: requestAct(op, body, nil)}
}

// mop is one sub-operation of a multi or multiRead.
type mop struct {
	op   proto.OpCode
	desc string
	body func(e *enc)
}

func mCreate(path string, d []byte, mode proto.CreateMode) mop {
	return mop{proto.OpCreate, fmt.Sprintf("create %q mode=%d", path, mode), createBody(path, d, open, mode)}
}

func mCreate2(path string, d []byte, mode proto.CreateMode) mop {
	return mop{proto.OpCreate2, fmt.Sprintf("create2 %q mode=%d", path, mode), createBody(path, d, open, mode)}
}

func mCreateContainer(path string) mop {
	return mop{proto.OpCreateContainer, fmt.Sprintf("createContainer %q", path), createBody(path, nil, open, proto.ModeContainer)}
}

func mDelete(path string, version int32) mop {
	return mop{proto.OpDelete, fmt.Sprintf("delete %q v=%d", path, version), func(e *enc) {
		e.str(path)
		e.i32(version)
	}}
}

func mSetData(path string, d []byte, version int32) mop {
	return mop{proto.OpSetData, fmt.Sprintf("setData %q v=%d", path, version), func(e *enc) {
		e.str(path)
		e.buf(d)
		e.i32(version)
	}}
}

func mCheck(path string, version int32) mop {
	return mop{proto.OpCheck, fmt.Sprintf("check %q v=%d", path, version), func(e *enc) {
		e.str(path)
		e.i32(version)
	}}
}

func mGetData(path string) mop {
	return mop{proto.OpGetData, fmt.Sprintf("getData %q", path), pathWatch(path, false)}
}

func mGetChildren(path string) mop {
	return mop{proto.OpGetChildren, fmt.Sprintf("getChildren %q", path), pathWatch(path, false)}
}

func multiBody(ops []mop) func(e *enc) {
	return func(e *enc) {
		for _, o := range ops {
			e.i32(int32(o.op))
			e.boolean(false)
			e.i32(-1)
			o.body(e)
		}
		e.i32(-1)
		e.boolean(true)
		e.i32(-1)
	}
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
func decMulti(d *dec, n *normaliser) string {
	var parts []string
	for d.err == nil {
		typ := d.i32()
		done := d.boolean()
		code := d.i32()
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

func setWatchesBody(rel int64, lists ...[]string) []byte {
	var e enc
	e.i64(rel)
	for _, l := range lists {
		e.strs(l)
	}
	return e.b
}
