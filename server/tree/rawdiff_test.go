package tree

import (
	"reflect"
	"sort"
	"testing"

	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/proto"
)

// rawOp is one request of the raw differential script.
type rawOp struct {
	name string
	op   proto.OpCode
	req  proto.Record
}

func createReq(op proto.OpCode, path string, mode proto.CreateMode, a []proto.ACL, ttl int64) rawOp {
	if op == proto.OpCreateTTL {
		return rawOp{"", op, &proto.CreateTTLRequest{Path: path, Data: []byte("v"), ACL: a, Flags: mode, TTL: ttl}}
	}
	return rawOp{"", op, &proto.CreateRequest{Path: path, Data: []byte("v"), ACL: a, Flags: mode}}
}

func rawScript() []rawOp {
	badACL := []proto.ACL{acl(31, "world", "nobody")}
	c := func(name string, op proto.OpCode, path string, mode proto.CreateMode, a []proto.ACL, ttl int64) rawOp {
		r := createReq(op, path, mode, a, ttl)
		r.name = name
		return r
	}
	path := func(name string, op proto.OpCode, p string) rawOp {
		if op == proto.OpExists || op == proto.OpGetData || op == proto.OpGetChildren2 {
			return rawOp{name, op, &proto.PathWatchRequest{Path: p}}
		}
		return rawOp{name, op, &proto.PathRequest{Path: p}}
	}
	del := func(name, p string, v int32) rawOp {
		return rawOp{name, proto.OpDelete, &proto.DeleteRequest{Path: p, Version: v}}
	}
	set := func(name, p string, v int32) rawOp {
		return rawOp{name, proto.OpSetData, &proto.SetDataRequest{Path: p, Data: []byte("s"), Version: v}}
	}
	setACL := func(name, p string, a []proto.ACL) rawOp {
		return rawOp{name, proto.OpSetACL, &proto.SetACLRequest{Path: p, ACL: a, Version: -1}}
	}
	multi := func(name string, op proto.OpCode, ops ...proto.MultiOp) rawOp {
		return rawOp{name, op, &proto.MultiRequest{Ops: ops}}
	}
	mcreate := func(op proto.OpCode, p string, mode proto.CreateMode) proto.MultiOp {
		return proto.MultiOp{Op: op, Create: &proto.CreateTTLRequest{Path: p, Data: []byte("m"), ACL: open, Flags: mode}}
	}
	ttlOp := func(op proto.OpCode, p string, mode proto.CreateMode, ttl int64) proto.MultiOp {
		m := mcreate(op, p, mode)
		m.Create.TTL = ttl
		return m
	}
	read := func(op proto.OpCode, p string) proto.MultiOp {
		return proto.MultiOp{Op: op, Read: &proto.PathWatchRequest{Path: p}}
	}
	return []rawOp{
		c("setup /a", proto.OpCreate, "/a", 0, open, 0),
		c("setup /a/b", proto.OpCreate2, "/a/b", 0, open, 0),
		c("setup /e", proto.OpCreate, "/e", proto.ModeEphemeral, open, 0),
		c("setup /ro", proto.OpCreate, "/ro", 0, proto.ReadACLUnsafe, 0),
		c("flag 7", proto.OpCreate, "/x", 7, open, 0),
		c("flag -1", proto.OpCreate2, "/x", -1, open, 0),
		c("ttl flag via create, TTL off", proto.OpCreate, "/x", proto.ModePersistentWithTTL, open, 0),
		c("createTTL, TTL off", proto.OpCreateTTL, "/x", proto.ModePersistentWithTTL, open, 100),
		c("createTTL plain flag", proto.OpCreateTTL, "/x", 0, open, 100),
		c("createTTL container flag", proto.OpCreateTTL, "/x", proto.ModeContainer, open, 0),
		c("no slash", proto.OpCreate, "x", 0, open, 0),
		c("no slash bad ACL", proto.OpCreate, "x", 0, badACL, 0),
		c("NUL", proto.OpCreate, "/a\x00", 0, badACL, 0),
		c("bad ACL before no parent", proto.OpCreate, "/nope/x", 0, badACL, 0),
		c("bad ACL before exists", proto.OpCreate, "/a/b", 0, badACL, 0),
		c("empty ACL", proto.OpCreate, "/x", 0, nil, 0),
		c("no parent before bad path", proto.OpCreate, "/nope/", 0, open, 0),
		c("no auth before bad path", proto.OpCreate, "/ro/", 0, open, 0),
		c("trailing slash", proto.OpCreate, "/a/", 0, open, 0),
		c("double slash", proto.OpCreate, "//a", 0, open, 0),
		c("dot", proto.OpCreate, "/a/.", 0, open, 0),
		c("dotdot", proto.OpCreate, "/a/..", 0, open, 0),
		c("control char", proto.OpCreate, "/a\x01", 0, open, 0),
		c("emoji", proto.OpCreate, "/\U0001F600", 0, open, 0),
		c("private use", proto.OpCreate, "/\ue000", 0, open, 0),
		c("latin", proto.OpCreate2, "/é", 0, open, 0),
		c("root", proto.OpCreate, "/", 0, open, 0),
		c("root seq", proto.OpCreate2, "/", proto.ModePersistentSequential, open, 0),
		c("exists", proto.OpCreate, "/a/b", 0, open, 0),
		c("ephemeral parent", proto.OpCreate, "/e/x", 0, open, 0),
		c("seq trailing slash create2", proto.OpCreate2, "/a/", proto.ModeEphemeralSequential, open, 0),
		c("container seq", proto.OpCreateContainer, "/a/c-", proto.ModePersistentSequential, open, 0),
		c("container op flag 0", proto.OpCreateContainer, "/c0", 0, open, 0),
		path("exists container", proto.OpExists, "/c0"),
		del("delete no slash", "a", -1),
		del("delete config", "/zookeeper/config", -1),
		del("delete trailing slash", "/a/", -1),
		del("delete double slash", "//a", -1),
		del("delete NUL", "/a\x00", -1),
		del("delete no parent", "/x/y", -1),
		set("set trailing slash", "/a/", -1),
		set("set missing", "/nope", -1),
		set("set no auth", "/ro", 7),
		setACL("setACL bad path first", "/a/", badACL),
		setACL("setACL bad ACL before node", "/nope", badACL),
		setACL("setACL no admin", "/ro", open),
		path("exists NUL", proto.OpExists, "/a\x00"),
		path("exists invalid", proto.OpExists, "a"),
		path("getData empty path", proto.OpGetData, ""),
		path("getData invalid", proto.OpGetData, "/a/"),
		path("getChildren2 /a", proto.OpGetChildren2, "/a"),
		path("getChildren2 missing", proto.OpGetChildren2, "/nope"),
		path("all children /", proto.OpGetAllChildrenNumber, "/"),
		path("all children /a", proto.OpGetAllChildrenNumber, "/a"),
		path("all children /zookeeper", proto.OpGetAllChildrenNumber, "/zookeeper"),
		path("all children missing", proto.OpGetAllChildrenNumber, "/nope"),
		c("ephemeral 2", proto.OpCreate, "/a/e2", proto.ModeEphemeral, open, 0),
		path("ephemerals all", proto.OpGetEphemerals, "/"),
		path("ephemerals /a", proto.OpGetEphemerals, "/a"),
		path("ephemerals /a/e", proto.OpGetEphemerals, "/a/e"),
		path("ephemerals none", proto.OpGetEphemerals, "/zzz"),
		multi("multi create kinds", proto.OpMulti,
			mcreate(proto.OpCreate, "/m", 0), mcreate(proto.OpCreate2, "/m/a", 0),
			mcreate(proto.OpCreate, "/m/c", proto.ModeContainer), mcreate(proto.OpCreateContainer, "/m/d", proto.ModeContainer),
			mcreate(proto.OpCreate2, "/m/s", proto.ModePersistentSequential)),
		multi("multi check bad path", proto.OpMulti, mcreate(proto.OpCreate, "/m2", 0),
			proto.MultiOp{Op: proto.OpCheck, Check: &proto.CheckVersionRequest{Path: "/a/", Version: -1}}),
		multi("multi check no read", proto.OpMulti,
			proto.MultiOp{Op: proto.OpCheck, Check: &proto.CheckVersionRequest{Path: "/ro", Version: -1}}),
		multi("multi ttl off", proto.OpMulti, mcreate(proto.OpCreate, "/m3", proto.ModePersistentWithTTL)),
		multi("multi createTTL ttl off", proto.OpMulti, mcreate(proto.OpCreate, "/m4", 0), ttlOp(proto.OpCreateTTL, "/m5", proto.ModePersistentWithTTL, 100)),
		multi("multi createTTL plain flag", proto.OpMulti, ttlOp(proto.OpCreateTTL, "/m6", 0, 100)),
		multi("multi container op ephemeral flag", proto.OpMulti, mcreate(proto.OpCreateContainer, "/m7", proto.ModeEphemeral)),
		multi("multi flag 7", proto.OpMulti, mcreate(proto.OpCreate2, "/m8", 7)),
		path("exists /m6", proto.OpExists, "/m6"),
		path("exists /m7", proto.OpExists, "/m7"),
		multi("multiRead", proto.OpMultiRead, read(proto.OpGetData, "/a"), read(proto.OpGetChildren, "/m"),
			read(proto.OpGetData, "/nope"), read(proto.OpGetChildren, "/a/")),
		path("exists /m", proto.OpExists, "/m"),
		path("exists /a", proto.OpExists, "/a"),
	}
}

// rawResult is what one raw step observed.
type rawResult struct {
	Code  proto.Error
	Path  string
	Data  string
	Stat  *proto.Stat
	Kids  []string
	Count int32
	Multi []proto.MultiResult
}

func (r *rawResult) stats(f func(*proto.Stat)) {
	if r.Stat != nil {
		f(r.Stat)
	}
	for _, m := range r.Multi {
		if m.Stat != nil {
			f(m.Stat)
		}
	}
}

func normaliseRaw(rs []rawResult, session int64) {
	var all []result
	for i := range rs {
		rs[i].stats(func(s *proto.Stat) { all = append(all, result{Stat: s}) })
	}
	normalise(all) // rewrites the shared *Stat values in place
	for i := range rs {
		rs[i].stats(func(s *proto.Stat) {
			if s.EphemeralOwner == session {
				s.EphemeralOwner = 1
			}
		})
	}
}

func runRawZK(c *rawClient, o rawOp) rawResult {
	var r rawResult
	switch o.op {
	case proto.OpCreate:
		var resp proto.CreateResponse
		r.Code = c.call(o.op, o.req, &resp)
		r.Path = resp.Path
	case proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		var resp proto.Create2Response
		r.Code = c.call(o.op, o.req, &resp)
		if r.Code == 0 {
			r.Path, r.Stat = resp.Path, &resp.Stat
		}
	case proto.OpDelete:
		r.Code = c.call(o.op, o.req, nil)
	case proto.OpSetData, proto.OpSetACL, proto.OpExists:
		var resp proto.StatResponse
		if r.Code = c.call(o.op, o.req, &resp); r.Code == 0 {
			r.Stat = &resp.Stat
		}
	case proto.OpGetData:
		var resp proto.GetDataResponse
		if r.Code = c.call(o.op, o.req, &resp); r.Code == 0 {
			r.Data, r.Stat = string(resp.Data), &resp.Stat
		}
	case proto.OpGetChildren2:
		var resp proto.GetChildren2Response
		if r.Code = c.call(o.op, o.req, &resp); r.Code == 0 {
			sort.Strings(resp.Children)
			r.Kids, r.Stat = resp.Children, &resp.Stat
		}
	case proto.OpGetAllChildrenNumber:
		var resp proto.CountResponse
		r.Code = c.call(o.op, o.req, &resp)
		r.Count = resp.Count
	case proto.OpGetEphemerals:
		var resp proto.GetEphemeralsResponse
		r.Code = c.call(o.op, o.req, &resp)
		sort.Strings(resp.Paths)
		r.Kids = resp.Paths
	case proto.OpMulti, proto.OpMultiRead:
		var resp proto.MultiResponse
		r.Code = c.call(o.op, o.req, &resp)
		r.Multi = resp.Results
		for i := range r.Multi {
			sort.Strings(r.Multi[i].Children)
		}
	}
	if len(r.Kids) == 0 {
		r.Kids = nil
	}
	return r
}

func runRawTree(tr *Tree, ck *clock, c Caller, o rawOp) rawResult {
	var r rawResult
	var err error
	stat := func(st proto.Stat) {
		if err == nil {
			r.Stat = &st
		}
	}
	switch req := o.req.(type) {
	case *proto.CreateRequest:
		var st proto.Stat
		r.Path, st, err = tr.Create(ck.next(), c, o.op, req.Path, req.Data, req.ACL, req.Flags, 0)
		if o.op != proto.OpCreate {
			stat(st)
		}
	case *proto.CreateTTLRequest:
		var st proto.Stat
		r.Path, st, err = tr.Create(ck.next(), c, o.op, req.Path, req.Data, req.ACL, req.Flags, req.TTL)
		stat(st)
	case *proto.DeleteRequest:
		err = tr.Delete(ck.next(), c, req.Path, req.Version)
	case *proto.SetDataRequest:
		var st proto.Stat
		st, err = tr.SetData(ck.next(), c, req.Path, req.Data, req.Version)
		stat(st)
	case *proto.SetACLRequest:
		var st proto.Stat
		st, err = tr.SetACL(ck.next(), c, req.Path, req.ACL, req.Version)
		stat(st)
	case *proto.PathWatchRequest:
		var st proto.Stat
		switch o.op {
		case proto.OpExists:
			st, err = tr.Exists(c, req.Path)
		case proto.OpGetData:
			var data []byte
			data, st, err = tr.GetData(c, req.Path)
			r.Data = string(data)
		case proto.OpGetChildren2:
			r.Kids, st, err = tr.GetChildren(c, req.Path)
		}
		stat(st)
	case *proto.PathRequest:
		switch o.op {
		case proto.OpGetAllChildrenNumber:
			r.Count, err = tr.AllChildrenNumber(c, req.Path)
		case proto.OpGetEphemerals:
			r.Kids = tr.Ephemerals(c.Session, req.Path)
		}
	case *proto.MultiRequest:
		if err = ValidateMulti(req.Ops); err != nil {
			break // the whole request fails, as in ZooKeeper
		}
		if o.op == proto.OpMultiRead {
			r.Multi = tr.MultiRead(c, req.Ops)
		} else {
			r.Multi = tr.Multi(ck.next(), c, req.Ops)
		}
	}
	if len(r.Kids) == 0 {
		r.Kids = nil
	}
	r.Code = proto.Code(err)
	return r
}

// TestRawDifferentialAgainstZooKeeper sends what go-zk cannot (invalid paths,
// flags and op/flag combinations, TTL while disabled, create2/container
// results in multi) to ZooKeeper with default settings and to a Tree.
func TestRawDifferentialAgainstZooKeeper(t *testing.T) {
	srv := zkpeer.StartT(t, zkpeer.Options{})
	zc := dialRaw(t, srv.Addr)
	tr, ck := New(), &clock{}
	caller := Caller{Session: zc.session, Ids: []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}}}

	script := rawScript()
	var want, got []rawResult
	for _, o := range script {
		want = append(want, runRawZK(zc, o))
		got = append(got, runRawTree(tr, ck, caller, o))
	}
	normaliseRaw(want, zc.session)
	normaliseRaw(got, zc.session)
	for i, o := range script {
		if !reflect.DeepEqual(want[i], got[i]) {
			t.Errorf("step %q:\n zookeeper %s\n tree      %s", o.name, showRaw(want[i]), showRaw(got[i]))
		}
	}
	zc.call(proto.OpCloseSession, nil, nil)
}

func showRaw(r rawResult) string {
	s := fmtAny(r)
	if r.Stat != nil {
		s += " stat=" + fmtAny(*r.Stat)
	}
	for _, m := range r.Multi {
		s += "\n   " + fmtAny(m)
		if m.Stat != nil {
			s += " stat=" + fmtAny(*m.Stat)
		}
	}
	return s
}
