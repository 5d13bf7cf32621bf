package tree

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/proto"
)

// The differential test drives the same script through go-zookeeper/zk against
// a real Apache ZooKeeper and through a Tree, then compares error codes, paths,
// data, children, ACLs and stats. Zxids are compared by rank (their order among
// all zxids a run observed) and times are ignored.

// result is what one script step observed.
type result struct {
	Code     proto.Error
	Path     string
	Data     string
	Null     bool
	Children []string
	Stat     *proto.Stat
	ACL      []proto.ACL
	Multi    []result
}

// driver runs operations as client cl (0: no auth, 1: digest user:pw, 2: super).
type driver interface {
	create(cl int, op proto.OpCode, path string, data []byte, acl []proto.ACL, mode proto.CreateMode, ttl int64) result
	set(cl int, path string, data []byte, v int32) result
	del(cl int, path string, v int32) result
	exists(cl int, path string) result
	get(cl int, path string) result
	children(cl int, path string) result
	getACL(cl int, path string) result
	setACL(cl int, path string, acl []proto.ACL, v int32) result
	multi(cl int, ops []proto.MultiOp) result
	closeSession(cl int)
}

type step struct {
	name string
	run  func(d driver) result
}

// Client 1 authenticates as digest user:pw, client 2 as the super user.
const (
	diffUser  = "user:pw"
	diffSuper = "super:test"
)

func diffScript() []step {
	world := func(p int32) []proto.ACL { return []proto.ACL{acl(p, "world", "anyone")} }
	userDigest := DigestID(diffUser)
	var s []step
	add := func(name string, f func(d driver) result) { s = append(s, step{name, f}) }
	create := func(cl int, path, data string, mode proto.CreateMode, a []proto.ACL) func(d driver) result {
		var b []byte
		if data != "<null>" {
			b = []byte(data)
		}
		return func(d driver) result { return d.create(cl, proto.OpCreate, path, b, a, mode, 0) }
	}
	exists := func(p string) func(d driver) result { return func(d driver) result { return d.exists(0, p) } }
	kids := func(p string) func(d driver) result { return func(d driver) result { return d.children(0, p) } }

	for _, p := range []string{"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"} {
		add("exists "+p, exists(p))
		add("getACL "+p, func(d driver) result { return d.getACL(0, p) })
	}
	add("children /", kids("/"))
	add("children /zookeeper", kids("/zookeeper"))
	add("get /zookeeper/quota", func(d driver) result { return d.get(0, "/zookeeper/quota") })
	add("get /zookeeper/config", func(d driver) result { return d.get(0, "/zookeeper/config") })
	add("get /", func(d driver) result { return d.get(0, "/") })

	add("create /a", create(0, "/a", "x", 0, open))
	add("exists /a", exists("/a"))
	add("create /a again", create(0, "/a", "y", 0, open))
	add("create /a/b null", create(0, "/a/b", "<null>", 0, open))
	add("get /a/b", func(d driver) result { return d.get(0, "/a/b") })
	add("create /a/em empty", create(0, "/a/em", "", 0, open))
	add("get /a/em", func(d driver) result { return d.get(0, "/a/em") })
	add("exists /a after children", exists("/a"))
	add("seq 1", create(0, "/a/s-", "1", proto.ModePersistentSequential, open))
	add("seq 2 other client", create(1, "/a/s-", "2", proto.ModePersistentSequential, open))
	add("seq trailing slash", create(0, "/a/", "3", proto.ModePersistentSequential, open))
	add("ephemeral c0", create(0, "/a/e", "", proto.ModeEphemeral, open))
	add("exists ephemeral", exists("/a/e"))
	add("child of ephemeral", create(0, "/a/e/x", "", 0, open))
	add("seq child of ephemeral", create(1, "/a/e/x", "", proto.ModePersistentSequential, open))
	add("ephemeral seq c1", create(1, "/a/e-", "", proto.ModeEphemeralSequential, open))
	add("ephemeral c1", create(1, "/e1", "", proto.ModeEphemeral, open))
	add("no parent", create(0, "/nope/x", "", 0, open))
	add("create root", create(0, "/", "", 0, open))
	add("create under /zookeeper", create(0, "/zookeeper/mine", "", 0, open))
	add("exists /a again", exists("/a"))
	add("children /a", kids("/a"))

	add("set /a v0", func(d driver) result { return d.set(0, "/a", []byte("new"), 0) })
	add("set /a v0 again", func(d driver) result { return d.set(0, "/a", []byte("bad"), 0) })
	add("set /a any", func(d driver) result { return d.set(0, "/a", []byte(""), -1) })
	add("set missing", func(d driver) result { return d.set(0, "/nope", nil, -1) })
	add("set config", func(d driver) result { return d.set(0, "/zookeeper/config", nil, -1) })
	add("get /a", func(d driver) result { return d.get(0, "/a") })
	add("delete non-empty", func(d driver) result { return d.del(0, "/a", -1) })
	add("delete bad version", func(d driver) result { return d.del(0, "/a/b", 5) })
	add("delete /a/b", func(d driver) result { return d.del(0, "/a/b", 0) })
	add("delete /a/b again", func(d driver) result { return d.del(0, "/a/b", -1) })
	add("delete no parent", func(d driver) result { return d.del(0, "/x/y", -1) })
	add("delete /zookeeper", func(d driver) result { return d.del(0, "/zookeeper", -1) })
	add("delete /zookeeper/quota", func(d driver) result { return d.del(0, "/zookeeper/quota", -1) })
	add("delete /", func(d driver) result { return d.del(0, "/", -1) })
	add("delete /zookeeper/mine", func(d driver) result { return d.del(0, "/zookeeper/mine", -1) })
	add("exists /a after delete", exists("/a"))
	add("seq after delete", create(0, "/a/s-", "4", proto.ModePersistentSequential, open))
	add("exists /a after seq", exists("/a"))

	add("container", func(d driver) result {
		return d.create(0, proto.OpCreateContainer, "/c", nil, open, proto.ModeContainer, 0)
	})
	add("exists container", exists("/c"))
	add("container child", create(0, "/c/x", "", 0, open))
	add("container child delete", func(d driver) result { return d.del(0, "/c/x", -1) })
	add("exists container after", exists("/c"))
	add("ttl", func(d driver) result {
		return d.create(0, proto.OpCreateTTL, "/t", []byte("t"), open, proto.ModePersistentWithTTL, 60000)
	})
	add("exists ttl", exists("/t"))
	add("ttl seq", func(d driver) result {
		return d.create(0, proto.OpCreateTTL, "/t/s", nil, open, proto.ModePersistentSequentialWithTTL, 60000)
	})

	add("create read-only", create(0, "/ro", "r", 0, world(proto.PermRead)))
	add("create under read-only", create(0, "/ro/x", "", 0, open))
	add("set read-only", func(d driver) result { return d.set(0, "/ro", nil, -1) })
	add("setACL read-only", func(d driver) result { return d.setACL(0, "/ro", open, -1) })
	add("getACL read-only", func(d driver) result { return d.getACL(0, "/ro") })
	add("auth ACL without auth", create(0, "/ac", "", 0, proto.CreatorAllACL))
	add("auth ACL with digest", create(1, "/ac", "secret", 0, proto.CreatorAllACL))
	add("getACL auth by owner", func(d driver) result { return d.getACL(1, "/ac") })
	add("getACL auth by other", func(d driver) result { return d.getACL(0, "/ac") })
	add("get auth by other", func(d driver) result { return d.get(0, "/ac") })
	add("children auth by other", func(d driver) result { return d.children(0, "/ac") })
	add("get auth by owner", func(d driver) result { return d.get(1, "/ac") })
	add("mixed ACL", create(1, "/mix", "", 0, []proto.ACL{acl(31, "digest", userDigest), acl(proto.PermRead, "world", "anyone")}))
	add("getACL mixed masked", func(d driver) result { return d.getACL(0, "/mix") })
	add("getACL mixed full", func(d driver) result { return d.getACL(1, "/mix") })
	add("delete under mixed", create(1, "/mix/k", "", 0, open))
	add("delete child without DELETE", func(d driver) result { return d.del(0, "/mix/k", -1) })
	add("delete child with DELETE", func(d driver) result { return d.del(1, "/mix/k", -1) })
	for i, bad := range [][]proto.ACL{
		{acl(31, "world", "someone")}, {acl(31, "digest", "nocolon")}, {acl(31, "digest", "a:b:c")},
		{acl(31, "ip", "300.1.1.1")}, {acl(31, "ip", "127.0.0.1/33")}, {acl(31, "foo", "bar")}, {},
		{acl(31, "world", "anyone"), acl(31, "ip", "1.2")},
	} {
		add(fmt.Sprintf("invalid ACL %d %v", i, bad), create(0, "/bad", "", 0, bad))
	}
	add("invalid ACL before no parent", create(0, "/nope/x", "", 0, []proto.ACL{acl(31, "world", "x")}))
	add("digest leading colon", create(0, "/dlc", "", 0, []proto.ACL{acl(31, "digest", ":h"), acl(31, "world", "anyone")}))
	add("duplicates", create(0, "/dup", "", 0, []proto.ACL{acl(1, "world", "anyone"), acl(1, "world", "anyone"), acl(31, "world", "anyone")}))
	add("getACL duplicates", func(d driver) result { return d.getACL(0, "/dup") })
	add("ip ACL match", create(0, "/ip", "i", 0, []proto.ACL{acl(31, "ip", "127.0.0.0/8")}))
	add("get ip match", func(d driver) result { return d.get(0, "/ip") })
	add("ip ACL miss", create(0, "/ip2", "i", 0, []proto.ACL{acl(31, "ip", "10.0.0.0/8")}))
	add("get ip miss", func(d driver) result { return d.get(0, "/ip2") })
	add("setACL /a", func(d driver) result { return d.setACL(0, "/a", world(31), 0) })
	add("setACL /a stale", func(d driver) result { return d.setACL(0, "/a", world(31), 0) })
	add("setACL /a bad ACL", func(d driver) result { return d.setACL(0, "/a", nil, -1) })
	add("setACL missing", func(d driver) result { return d.setACL(0, "/nope", open, -1) })
	add("setACL auth by c0", func(d driver) result { return d.setACL(0, "/a", proto.CreatorAllACL, -1) })
	add("exists /a after setACL", exists("/a"))

	mc := func(path string, mode proto.CreateMode) proto.MultiOp {
		return proto.MultiOp{Op: proto.OpCreate, Create: &proto.CreateTTLRequest{Path: path, Data: []byte("m"), ACL: open, Flags: mode}}
	}
	add("multi ok", func(d driver) result {
		return d.multi(0, []proto.MultiOp{mc("/m", 0), mc("/m/s-", proto.ModePersistentSequential),
			mc("/m/s-", proto.ModePersistentSequential), setOp("/m", 0), checkOp("/m", 1),
			deleteOp("/a/s-0000000000", 0), mc("/m/e", proto.ModeEphemeral)})
	})
	add("exists /m", exists("/m"))
	add("children /m", kids("/m"))
	add("exists /a after multi", exists("/a"))
	add("multi fails on exists", func(d driver) result {
		return d.multi(0, []proto.MultiOp{mc("/m2", 0), setOp("/m", -1), mc("/a", 0), deleteOp("/m", -1)})
	})
	add("multi rolled back", exists("/m2"))
	add("multi rolled back /m", exists("/m"))
	add("multi fails on check", func(d driver) result {
		return d.multi(0, []proto.MultiOp{mc("/m3", 0), checkOp("/m", 0)})
	})
	add("multi fails on ephemeral parent", func(d driver) result {
		return d.multi(0, []proto.MultiOp{mc("/m/e/x", 0), mc("/m4", 0)})
	})
	add("multi fails on ACL", func(d driver) result {
		return d.multi(0, []proto.MultiOp{setOp("/m", -1), mc("/ro/x", 0)})
	})
	add("multi delete non-empty", func(d driver) result {
		return d.multi(0, []proto.MultiOp{deleteOp("/m", -1)})
	})
	add("multi delete then recreate", func(d driver) result {
		return d.multi(0, []proto.MultiOp{deleteOp("/m/s-0000000000", -1), mc("/m/s-0000000000", 0), setOp("/m/s-0000000000", 0)})
	})
	add("children /m after", kids("/m"))
	add("exists /m after", exists("/m"))
	add("seq after rollback", create(0, "/m/s-", "", proto.ModePersistentSequential, open))

	add("super reads owner-only", func(d driver) result { return d.get(2, "/ac") })
	add("super getACL unmasked", func(d driver) result { return d.getACL(2, "/mix") })
	add("super writes read-only", func(d driver) result { return d.set(2, "/ro", []byte("s"), -1) })
	add("super creates under read-only", create(2, "/ro/s", "", 0, open))
	add("super auth ACL expands to digest only", create(2, "/sup", "", 0, proto.CreatorAllACL))
	add("getACL super-owned", func(d driver) result { return d.getACL(2, "/sup") })
	add("super deletes", func(d driver) result { return d.del(2, "/ro/s", -1) })
	add("children / before close", kids("/"))
	add("close session 1", func(d driver) result { d.closeSession(1); return result{} })
	add("exists /a after close", exists("/a"))
	add("children /a after close", kids("/a"))
	add("exists /e1 after close", exists("/e1"))
	add("children / after close", kids("/"))
	return s
}

// normalise replaces zxids by their rank among all zxids seen and drops times.
func normalise(rs []result) {
	seen := map[int64]bool{}
	var visit func(r *result, f func(*proto.Stat))
	visit = func(r *result, f func(*proto.Stat)) {
		if r.Stat != nil {
			f(r.Stat)
		}
		for i := range r.Multi {
			visit(&r.Multi[i], f)
		}
	}
	for i := range rs {
		visit(&rs[i], func(s *proto.Stat) { seen[s.Czxid], seen[s.Mzxid], seen[s.Pzxid] = true, true, true })
	}
	var all []int64
	for z := range seen {
		all = append(all, z)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	rank := map[int64]int64{}
	for i, z := range all {
		rank[z] = int64(i)
	}
	for i := range rs {
		visit(&rs[i], func(s *proto.Stat) {
			s.Czxid, s.Mzxid, s.Pzxid = rank[s.Czxid], rank[s.Mzxid], rank[s.Pzxid]
			s.Ctime, s.Mtime = 0, 0
		})
	}
}

func TestDifferentialAgainstZooKeeper(t *testing.T) {
	srv := zkpeer.StartT(t, zkpeer.Options{ExtendedTypes: true, Extra: []string{
		// zoo.cfg keys ZooKeeper does not know become "zookeeper."-prefixed system properties.
		"DigestAuthenticationProvider.superDigest=" + DigestID(diffSuper),
	}})
	zd := newZKDriver(t, srv.Addr)
	td := &treeDriver{t: New(), callers: zd.callers()}
	td.t.SetOptions(Options{ExtendedTypes: true})

	script := diffScript()
	var want, got []result
	for _, s := range script {
		want = append(want, s.run(zd))
		got = append(got, s.run(td))
	}
	normalise(want)
	normalise(got)
	for i, s := range script {
		if !reflect.DeepEqual(want[i], got[i]) {
			t.Errorf("step %q:\n zookeeper %s\n tree      %s", s.name, show(want[i]), show(got[i]))
		}
	}
	srvr, err := zkpeer.FourLetter(srv.Addr, "srvr", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Node count: %d", td.t.NodeCount()); !strings.Contains(srvr, want) {
		t.Errorf("srvr says\n%s\nwant %q", srvr, want)
	}
}

func show(r result) string {
	s := fmt.Sprintf("code=%d path=%q data=%q null=%v children=%v acl=%v", r.Code, r.Path, r.Data, r.Null, r.Children, r.ACL)
	if r.Stat != nil {
		s += fmt.Sprintf(" stat=%+v", *r.Stat)
	}
	for _, m := range r.Multi {
		s += "\n   [" + show(m) + "]"
	}
	return s
}

// treeDriver runs the script on a Tree; every write consumes a zxid, as in
// ZooKeeper, whether it fails or not.
type treeDriver struct {
	t       *Tree
	callers []Caller
	ck      clock
}

func treeResult(err error) result { return result{Code: proto.Code(err)} }

func withStat(r result, st proto.Stat) result {
	if r.Code == 0 {
		r.Stat = &st
	}
	return r
}

func (d *treeDriver) create(cl int, op proto.OpCode, path string, data []byte, a []proto.ACL, mode proto.CreateMode, ttl int64) result {
	p, _, err := d.t.Create(d.ck.next(), d.callers[cl], op, path, data, a, mode, ttl)
	r := treeResult(err)
	r.Path = p
	return r
}

func (d *treeDriver) set(cl int, path string, data []byte, v int32) result {
	st, err := d.t.SetData(d.ck.next(), d.callers[cl], path, data, v)
	return withStat(treeResult(err), st)
}

func (d *treeDriver) del(cl int, path string, v int32) result {
	return treeResult(d.t.Delete(d.ck.next(), d.callers[cl], path, v))
}

func (d *treeDriver) exists(cl int, path string) result {
	st, err := d.t.Exists(d.callers[cl], path)
	return withStat(treeResult(err), st)
}

func (d *treeDriver) get(cl int, path string) result {
	data, st, err := d.t.GetData(d.callers[cl], path)
	r := withStat(treeResult(err), st)
	if err == nil {
		r.Data, r.Null = string(data), data == nil
	}
	return r
}

func (d *treeDriver) children(cl int, path string) result {
	kids, st, err := d.t.GetChildren(d.callers[cl], path)
	r := withStat(treeResult(err), st)
	r.Children = kids
	return r
}

func (d *treeDriver) getACL(cl int, path string) result {
	a, st, err := d.t.GetACL(d.callers[cl], path)
	r := withStat(treeResult(err), st)
	r.ACL = a
	return r
}

func (d *treeDriver) setACL(cl int, path string, a []proto.ACL, v int32) result {
	st, err := d.t.SetACL(d.ck.next(), d.callers[cl], path, a, v)
	return withStat(treeResult(err), st)
}

func (d *treeDriver) multi(cl int, ops []proto.MultiOp) result {
	var r result
	for _, m := range d.t.Multi(d.ck.next(), d.callers[cl], ops) {
		r.Multi = append(r.Multi, result{Code: m.Err, Path: m.Path, Stat: m.Stat})
		if r.Code == 0 {
			r.Code = m.Err // go-zk reports the first error
		}
	}
	return r
}

func (d *treeDriver) closeSession(cl int) { d.t.CloseSession(d.ck.next(), d.callers[cl].Session) }

// zkDriver runs the script through go-zookeeper/zk.
type zkDriver struct {
	t     *testing.T
	conns []*zk.Conn
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

func newZKDriver(t *testing.T, addr string) *zkDriver {
	d := &zkDriver{t: t}
	for i := 0; i < 3; i++ {
		c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quietLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		deadline := time.After(20 * time.Second)
		for c.State() != zk.StateHasSession {
			select {
			case <-events:
			case <-deadline:
				t.Fatal("no ZooKeeper session")
			}
		}
		d.conns = append(d.conns, c)
	}
	if err := d.conns[1].AddAuth("digest", []byte(diffUser)); err != nil {
		t.Fatal(err)
	}
	if err := d.conns[2].AddAuth("digest", []byte(diffSuper)); err != nil {
		t.Fatal(err)
	}
	return d
}

// callers are the tree-side identities matching the two connections.
func (d *zkDriver) callers() []Caller {
	ip := proto.Id{Scheme: "ip", ID: "127.0.0.1"}
	return []Caller{
		{Session: d.conns[0].SessionID(), Ids: []proto.Id{ip}},
		{Session: d.conns[1].SessionID(), Ids: []proto.Id{ip, {Scheme: "digest", ID: DigestID(diffUser)}}},
		// ZooKeeper gives a super digest both ids.
		{Session: d.conns[2].SessionID(), Ids: []proto.Id{ip, {Scheme: "super"}, {Scheme: "digest", ID: DigestID(diffSuper)}}},
	}
}

var zkErrCodes = map[error]proto.Error{
	zk.ErrNoNode: proto.ErrNoNode, zk.ErrNoAuth: proto.ErrNoAuth, zk.ErrBadVersion: proto.ErrBadVersion,
	zk.ErrNoChildrenForEphemerals: proto.ErrNoChildrenForEphemerals, zk.ErrNodeExists: proto.ErrNodeExists,
	zk.ErrNotEmpty: proto.ErrNotEmpty, zk.ErrInvalidACL: proto.ErrInvalidACL, zk.ErrBadArguments: proto.ErrBadArguments,
	zk.ErrAPIError: proto.ErrAPIError,
}

func (d *zkDriver) code(err error) proto.Error {
	if err == nil {
		return 0
	}
	for e, c := range zkErrCodes {
		if errors.Is(err, e) {
			return c
		}
	}
	if s, ok := strings.CutPrefix(err.Error(), "unknown error: "); ok {
		if n, perr := strconv.Atoi(s); perr == nil {
			return proto.Error(n)
		}
	}
	d.t.Fatalf("unexpected client error %v", err)
	return 0
}

func fromZKStat(s *zk.Stat) *proto.Stat {
	return &proto.Stat{Czxid: s.Czxid, Mzxid: s.Mzxid, Ctime: s.Ctime, Mtime: s.Mtime, Version: s.Version,
		Cversion: s.Cversion, Aversion: s.Aversion, EphemeralOwner: s.EphemeralOwner, DataLength: s.DataLength,
		NumChildren: s.NumChildren, Pzxid: s.Pzxid}
}

func toZKACL(a []proto.ACL) []zk.ACL {
	out := make([]zk.ACL, len(a))
	for i, x := range a {
		out[i] = zk.ACL{Perms: x.Perms, Scheme: x.ID.Scheme, ID: x.ID.ID}
	}
	return out
}

func fromZKACL(a []zk.ACL) []proto.ACL {
	out := make([]proto.ACL, len(a))
	for i, x := range a {
		out[i] = acl(x.Perms, x.Scheme, x.ID)
	}
	return out
}

func (d *zkDriver) statResult(st *zk.Stat, err error) result {
	r := result{Code: d.code(err)}
	if err == nil {
		r.Stat = fromZKStat(st)
	}
	return r
}

func (d *zkDriver) create(cl int, op proto.OpCode, path string, data []byte, a []proto.ACL, mode proto.CreateMode, ttl int64) result {
	c := d.conns[cl]
	var p string
	var err error
	switch op {
	case proto.OpCreateContainer:
		p, err = c.CreateContainer(path, data, int32(mode), toZKACL(a))
	case proto.OpCreateTTL:
		p, err = c.CreateTTL(path, data, int32(mode), toZKACL(a), time.Duration(ttl)*time.Millisecond)
	default:
		p, err = c.Create(path, data, int32(mode), toZKACL(a))
	}
	return result{Code: d.code(err), Path: p}
}

func (d *zkDriver) set(cl int, path string, data []byte, v int32) result {
	return d.statResult(d.conns[cl].Set(path, data, v))
}

func (d *zkDriver) del(cl int, path string, v int32) result {
	return result{Code: d.code(d.conns[cl].Delete(path, v))}
}

func (d *zkDriver) exists(cl int, path string) result {
	ok, st, err := d.conns[cl].Exists(path)
	if err == nil && !ok {
		err = zk.ErrNoNode
	}
	return d.statResult(st, err)
}

func (d *zkDriver) get(cl int, path string) result {
	data, st, err := d.conns[cl].Get(path)
	r := d.statResult(st, err)
	if err == nil {
		r.Data, r.Null = string(data), data == nil
	}
	return r
}

func (d *zkDriver) children(cl int, path string) result {
	kids, st, err := d.conns[cl].Children(path)
	r := d.statResult(st, err)
	if err == nil {
		sort.Strings(kids) // ZooKeeper returns hash order
		r.Children = kids
	}
	return r
}

func (d *zkDriver) getACL(cl int, path string) result {
	a, st, err := d.conns[cl].GetACL(path)
	r := d.statResult(st, err)
	if err == nil {
		r.ACL = fromZKACL(a)
	}
	return r
}

func (d *zkDriver) setACL(cl int, path string, a []proto.ACL, v int32) result {
	return d.statResult(d.conns[cl].SetACL(path, toZKACL(a), v))
}

func (d *zkDriver) multi(cl int, ops []proto.MultiOp) result {
	var zops []any
	for _, op := range ops {
		switch op.Op {
		case proto.OpCreate:
			c := op.Create
			zops = append(zops, &zk.CreateRequest{Path: c.Path, Data: c.Data, Acl: toZKACL(c.ACL), Flags: int32(c.Flags)})
		case proto.OpDelete:
			zops = append(zops, &zk.DeleteRequest{Path: op.Delete.Path, Version: op.Delete.Version})
		case proto.OpSetData:
			zops = append(zops, &zk.SetDataRequest{Path: op.SetData.Path, Data: op.SetData.Data, Version: op.SetData.Version})
		case proto.OpCheck:
			zops = append(zops, &zk.CheckVersionRequest{Path: op.Check.Path, Version: op.Check.Version})
		default:
			d.t.Fatalf("multi op %v not supported by go-zk", op.Op)
		}
	}
	res, err := d.conns[cl].Multi(zops...)
	r := result{Code: d.code(err)}
	for _, m := range res {
		mr := result{Code: d.code(m.Error), Path: m.String}
		if m.Stat != nil {
			mr.Stat = fromZKStat(m.Stat)
		}
		r.Multi = append(r.Multi, mr)
	}
	return r
}

func (d *zkDriver) closeSession(cl int) { d.conns[cl].Close() }

func fmtAny(v any) string { return fmt.Sprintf("%+v", v) }
