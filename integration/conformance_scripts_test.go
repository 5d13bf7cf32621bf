package integration

import (
	"github.com/herd-io/herd/server/proto"
)

// The scripts walk §4–§11 of the protocol reference. Each uses its own top
// path so scripts never interact; clients are numbered per script.

// Short names keep the scripts readable as tables.
var (
	pers = proto.ModePersistent
	eph  = proto.ModeEphemeral
)

func bs(s string) []byte { return []byte(s) }

var conformanceScripts = []script{
	{"crud and stat bumps", []step{
		connect(0),
		create(0, "/crud", bs("root"), open, pers),
		create2(0, "/crud/a", bs("A"), open, pers),
		exists(0, "/crud", false),
		getData(0, "/crud/a", false),
		setData(0, "/crud/a", bs("A2"), 0),
		setData(0, "/crud/a", bs("A3"), 0).want(proto.ErrBadVersion),
		setData(0, "/crud/a", bs("A3"), -1),
		getData(0, "/crud/a", false),
		exists(0, "/crud", false), // parent: cversion 1, pzxid of the create, mzxid unchanged
		create(0, "/crud/null", nil, open, pers),
		getData(0, "/crud/null", false), // null data stays null
		create(0, "/crud/empty", []byte{}, open, pers),
		getData(0, "/crud/empty", false),
		create(0, "/crud/a", bs("again"), open, pers).want(proto.ErrNodeExists),
		create(0, "/crud/missing/x", nil, open, pers).want(proto.ErrNoNode),
		getData(0, "/crud/none", false).want(proto.ErrNoNode),
		exists(0, "/crud/none", false).want(proto.ErrNoNode),
		getChildren(0, "/crud/none", false).want(proto.ErrNoNode),
		setData(0, "/crud/none", bs("x"), -1).want(proto.ErrNoNode),
		delete0("/crud/none").want(proto.ErrNoNode),
		delete0("/crud").want(proto.ErrNotEmpty),
		del(0, "/crud/a", 7).want(proto.ErrBadVersion),
		del(0, "/crud/a", 3),
		getChildren(0, "/crud", false),
		getChildren2(0, "/crud", false), // cversion counts creates + deletes
		create(0, "/crud/f", nil, open, 7).want(proto.ErrBadArguments),
		create(0, "/crud/f", nil, open, -1).want(proto.ErrBadArguments),
		create(0, "/crud/eph", bs("e"), open, eph),
		create(0, "/crud/eph/child", nil, open, pers).want(proto.ErrNoChildrenForEphemerals),
		exists(0, "/crud/eph", false), // ephemeralOwner = this session
		syncPath(0, "/crud"),
		syncPath(0, "/crud/none"),
		setACL(0, "/crud/null", []proto.ACL{{Perms: proto.PermRead | proto.PermAdmin, ID: proto.Id{Scheme: "world", ID: "anyone"}}}, 0), // aversion +1, nothing else
		setACL(0, "/crud/null", open, 0).want(proto.ErrBadVersion),
		setData(0, "/crud/null", bs("x"), -1).want(proto.ErrNoAuth),
		setACL(0, "/crud/null", readOnly, 1),
		setACL(0, "/crud/null", open, 2).want(proto.ErrNoAuth), // ADMIN is checked before the version
		getACL(0, "/crud/null"),
		create(0, "/crud/big", make([]byte, 1000), open, pers),
		exists(0, "/crud/big", false),
	}},
	{"sequential nodes", []step{
		connect(0),
		create(0, "/seq", nil, open, pers),
		create(0, "/seq/n-", nil, open, proto.ModePersistentSequential),
		create(0, "/seq/plain", nil, open, pers), // any create bumps the counter
		create2(0, "/seq/n-", bs("x"), open, proto.ModePersistentSequential),
		delete0("/seq/plain"),
		create(0, "/seq/e-", nil, open, proto.ModeEphemeralSequential),
		create(0, "/seq/", nil, open, proto.ModePersistentSequential), // suffix appended to the raw path
		exists(0, "/seq", false),
		getChildren(0, "/seq", false),
		multi(0, mCreate("/seq/m-", nil, proto.ModePersistentSequential), mCreate("/seq/m-", nil, proto.ModePersistentSequential)),
		create(0, "/seq/n-", nil, open, proto.ModePersistentSequential),
		create(0, "/seq/missing/n-", nil, open, proto.ModePersistentSequential).want(proto.ErrNoNode),
	}},
	{"containers and TTL nodes", []step{
		connect(0),
		createContainer(0, "/ctr", bs("c"), proto.ModeContainer),
		exists(0, "/ctr", false),               // ephemeralOwner hides the container marker
		createContainer(0, "/ctr2", nil, pers), // op 19 ignores the flags
		create(0, "/ctr/child", nil, open, pers),
		create(0, "/ctr3", nil, open, proto.ModeContainer),
		exists(0, "/ctr3", false),
		createTTL(0, "/ttl", bs("t"), proto.ModePersistentWithTTL, 3600000),
		exists(0, "/ttl", false),
		createTTL(0, "/ttl/s-", nil, proto.ModePersistentSequentialWithTTL, 3600000),
		createTTL(0, "/ttl0", nil, proto.ModePersistentWithTTL, 0).want(proto.ErrBadArguments),
		createTTL(0, "/ttlbig", nil, proto.ModePersistentWithTTL, 0x10000000000).want(proto.ErrBadArguments),
		createTTL(0, "/ttlp", nil, pers, 1000).want(proto.ErrBadArguments),
		create(0, "/ttl5", nil, open, proto.ModePersistentWithTTL).want(proto.ErrBadArguments),
		create2(0, "/ttl6", nil, open, proto.ModePersistentSequentialWithTTL).want(proto.ErrBadArguments),
		multi(0, mCreateContainer("/ctr/inmulti"), mCreate2("/ctr/c2", nil, pers)),
		getChildren(0, "/ctr", false),
		// ZooKeeper 3.8.0 rejects op 20 from clients, length-prefixed or not.
		deleteContainer(0, "/ctr3").want(proto.ErrBadArguments),
		rawOp(0, proto.OpDeleteContainer, []byte("/ctr3")).want(proto.ErrBadArguments),
		exists(0, "/ctr3", false),
	}},
	{"multi and multiRead", []step{
		connect(0),
		create(0, "/tx", nil, open, pers),
		multi(0,
			mCreate("/tx/a", bs("a"), pers),
			mCreate2("/tx/b", bs("b"), pers),
			mSetData("/tx/a", bs("a2"), 0),
			mCheck("/tx/b", 0),
			mDelete("/tx/b", 0),
		),
		getChildren2(0, "/tx", false),
		multi(0, // fails at op 2: earlier ops roll back (err 0), later ones get -2
			mCreate("/tx/c", nil, pers),
			mCheck("/tx/a", 5),
			mCreate("/tx/d", nil, pers),
		),
		exists(0, "/tx/c", false).want(proto.ErrNoNode),
		multi(0, mCreate("/tx/a", nil, pers)),
		multi(0, mDelete("/tx/none", -1), mCreate("/tx/e", nil, pers)),
		multi(0, mSetData("/tx/a", bs("x"), 9)),
		multi(0, mCheck("/tx/none", -1)),
		multi(0, mCreate("/tx/f", nil, pers), mCreate("/tx/f/g", nil, pers), mDelete("/tx/f/g", -1)),
		multi(0), // empty transaction
		multi(0, mCreate("bad", nil, pers)),
		multi(0, mCreate("/tx/h", nil, pers), mGetData("/tx/a")), // reads mixed into a write multi
		getChildren(0, "/tx", false),
		multiRead(0, mGetData("/tx/a"), mGetChildren("/tx"), mGetData("/tx/none"), mGetChildren("/tx/none")),
		multiRead(0, mGetData("/tx/a"), mCreate("/tx/i", nil, pers)), // writes mixed into a multiRead
		exists(0, "/tx/i", false),
	}},
	{"one-shot watches", []step{
		connect(0), connect(1),
		create(0, "/w", nil, open, pers),
		exists(1, "/w/a", true).want(proto.ErrNoNode), // registers although the node is missing
		create(0, "/w/a", bs("1"), open, pers),
		events(1),
		getData(1, "/w/a", true),
		setData(0, "/w/a", bs("2"), -1),
		events(1),
		setData(0, "/w/a", bs("3"), -1), // one-shot: no second event
		events(1),
		getChildren(1, "/w", true),
		getData(1, "/w/a", true),
		exists(1, "/w/a", true), // same trigger, one event per connection
		getChildren(1, "/w/a", true),
		create(0, "/w/b", nil, open, pers),
		events(1),
		getChildren(1, "/w", true),
		del(0, "/w/a", -1),
		events(1),                                         // NodeDeleted once for data+child watches of /w/a, then the parent
		getData(1, "/w/none", true).want(proto.ErrNoNode), // getData on a missing node sets no watch
		create(0, "/w/none", nil, open, pers),
		events(1),
		exists(0, "/w/self", true).want(proto.ErrNoNode),
		create(0, "/w/self", nil, open, pers), // the writer's own watch fires before its reply
		events(0),
		setACL(0, "/w/b", open, -1),
		exists(1, "/w/b", true),
		setACL(0, "/w/b", open, -1), // setACL fires nothing
		events(1),
		checkWatches(1, "/w/b", proto.WatcherData),
		checkWatches(1, "/w/b", proto.WatcherChildren).want(proto.ErrNoWatcher),
		checkWatches(1, "/w/b", proto.WatcherAny),
		removeWatches(1, "/w/b", proto.WatcherData),
		removeWatches(1, "/w/b", proto.WatcherData).want(proto.ErrNoWatcher),
		setData(0, "/w/b", bs("x"), -1),
		events(1),
		getChildren(1, "/w", true),
		removeWatches(1, "/w", proto.WatcherAny),
		checkWatches(1, "/w", proto.WatcherChildren).want(proto.ErrNoWatcher),
		checkWatches(1, "/w/never", proto.WatcherAny).want(proto.ErrNoWatcher),
		create(0, "/w/c", nil, open, pers),
		events(1),
	}},
	{"persistent watches", []step{
		connect(0), connect(1),
		addWatch(1, "/pw", proto.AddWatchPersistent), // allowed on a missing path
		create(0, "/pw", nil, open, pers),
		create(0, "/pw/a", nil, open, pers),
		setData(0, "/pw", bs("1"), -1),
		setData(0, "/pw/a", bs("1"), -1), // child data: not seen by a mode-0 watch
		del(0, "/pw/a", -1),
		events(1),
		setData(0, "/pw", bs("2"), -1), // still armed after firing
		events(1),
		addWatch(1, "/pr", proto.AddWatchPersistentRecursive),
		create(0, "/pr", nil, open, pers),
		create(0, "/pr/a", nil, open, pers),
		create(0, "/pr/a/b", nil, open, pers),
		setData(0, "/pr/a/b", bs("x"), -1),
		del(0, "/pr/a/b", -1),
		create(0, "/prx", nil, open, pers), // sibling prefix: not a descendant
		events(1),                          // recursive watches never get NodeChildrenChanged
		checkWatches(1, "/pw", proto.WatcherPersistent),
		checkWatches(1, "/pw", proto.WatcherData),
		checkWatches(1, "/pr", proto.WatcherPersistentRecursive),
		checkWatches(1, "/pr", proto.WatcherPersistent), // 3.8.0 cannot decode types 4 and 5
		checkWatches(1, "/pr/a", proto.WatcherAny).want(proto.ErrNoWatcher),
		removeWatches(1, "/pw", proto.WatcherPersistent),
		setData(0, "/pw", bs("3"), -1),
		events(1),
		removeWatches(1, "/pr", proto.WatcherAny),
		setData(0, "/pr/a", bs("y"), -1),
		events(1),
		addWatch(1, "/pw", 2),
		addWatch(1, "/pw", proto.AddWatchPersistent),
		exists(1, "/pw", true), // a one-shot watch on top of the persistent one
		setData(0, "/pw", bs("4"), -1),
		events(1), // one event per connection per trigger
		del(0, "/pw", -1),
		events(1),
	}},
	{"setWatches after reconnect", []step{
		connect(0), connect(1),
		create(0, "/sw", nil, open, pers),
		create(0, "/sw/d", bs("1"), open, pers),
		create(0, "/sw/same", bs("1"), open, pers),
		create(0, "/sw/gone", nil, open, pers),
		getData(1, "/sw/d", true),
		getData(1, "/sw/same", true),
		getChildren(1, "/sw", true),
		drop(1),
		setData(0, "/sw/d", bs("2"), -1),
		create(0, "/sw/new", nil, open, pers),
		del(0, "/sw/gone", -1),
		reattach(1, false),
		setWatches(1, proto.OpSetWatches,
			[]string{"/sw/d", "/sw/same", "/sw/gone"}, // data
			[]string{"/sw/new", "/sw/later"},          // exist
			[]string{"/sw", "/sw/gone"}),              // child
		events(1),                           // catch-up events, sent before the reply
		setData(0, "/sw/same", bs("2"), -1), // re-armed watches still fire
		create(0, "/sw/later", nil, open, pers),
		events(1),
		addWatch(1, "/sw", proto.AddWatchPersistentRecursive),
		drop(1),
		create(0, "/sw/x", nil, open, pers),
		reattach(1, false),
		setWatches(1, proto.OpSetWatches2, nil, nil, nil, nil, []string{"/sw"}),
		events(1), // no catch-up for persistent watches
		setData(0, "/sw/x", bs("1"), -1),
		events(1),
		drop(1),
		reattach(1, true), // wrong password: expired reply
		reattach(1, false),
		getData(1, "/sw/d", false),
	}},
	{"ACLs and authentication", []step{
		connect(0), connect(1),
		create(0, "/acl", nil, open, pers),
		create(0, "/acl/auth", nil, creator, pers).want(proto.ErrInvalidACL), // no authenticated id yet
		auth(0, "digest", "alice:secret"),
		whoAmI(0),
		whoAmI(1),
		create(0, "/acl/mine", bs("m"), creator, pers),
		getACL(0, "/acl/mine"),
		getData(1, "/acl/mine", false).want(proto.ErrNoAuth),
		getACL(1, "/acl/mine"),
		exists(1, "/acl/mine", false),
		setData(1, "/acl/mine", bs("x"), -1).want(proto.ErrNoAuth),
		create(1, "/acl/mine/c", nil, open, pers).want(proto.ErrNoAuth),
		create(0, "/acl/masked", bs("m"), []proto.ACL{{Perms: proto.PermRead, ID: proto.Id{Scheme: "world", ID: "anyone"}}, {Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: digestID("alice", "secret")}}}, pers),
		getACL(1, "/acl/masked"), // READ without ADMIN: digest ids masked
		getACL(0, "/acl/masked"),
		setACL(1, "/acl/masked", open, -1).want(proto.ErrNoAuth),
		setACL(0, "/acl/masked", open, 3).want(proto.ErrBadVersion),
		setACL(0, "/acl/masked", []proto.ACL{{Perms: proto.PermRead | proto.PermWrite, ID: proto.Id{Scheme: "world", ID: "anyone"}}, {Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: digestID("alice", "secret")}}}, 0),
		setData(1, "/acl/masked", bs("w"), -1),
		del(1, "/acl/masked", -1), // DELETE is checked on the parent, which is open
		create(0, "/acl/ip", bs("i"), []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "ip", ID: "127.0.0.1"}}}, pers),
		getData(1, "/acl/ip", false),
		create(0, "/acl/net", bs("n"), []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}, pers),
		getData(1, "/acl/net", false).want(proto.ErrNoAuth),
		create(0, "/acl/cidr", bs("n"), []proto.ACL{{Perms: proto.PermRead, ID: proto.Id{Scheme: "ip", ID: "127.0.0.0/8"}}}, pers),
		getData(1, "/acl/cidr", false),
		setData(1, "/acl/cidr", nil, -1).want(proto.ErrNoAuth),
		create(0, "/acl/bad1", nil, []proto.ACL{}, pers).want(proto.ErrInvalidACL),
		create(0, "/acl/bad2", nil, nil, pers).want(proto.ErrInvalidACL),
		create(0, "/acl/bad3", nil, []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "world", ID: "nobody"}}}, pers).want(proto.ErrInvalidACL),
		create(0, "/acl/bad4", nil, []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "nosuch", ID: "x"}}}, pers).want(proto.ErrInvalidACL),
		create(0, "/acl/bad5", nil, []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "nocolon"}}}, pers).want(proto.ErrInvalidACL),
		create(0, "/acl/bad6", nil, []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "ip", ID: "not-an-ip"}}}, pers).want(proto.ErrInvalidACL),
		create(0, "/acl/dup", nil, []proto.ACL{open[0], open[0]}, pers), // duplicates removed
		getACL(0, "/acl/dup"),
		authXid(0, 77, "digest", "bob:pw"), // positive xid, as go-zookeeper sends
		ping(0),
		whoAmI(0),
		create(0, "/acl/two", nil, creator, pers), // auth expands to every digest id
		getACL(0, "/acl/two"),
		getACL(0, "/acl/none").want(proto.ErrNoNode),
		auth(1, "nosuch", "x"), // unknown scheme: -115 then close
		connect(2),
		auth(2, "digest", "alice:wrong"),
		getData(2, "/acl/mine", false).want(proto.ErrNoAuth),
		auth(2, "digest", "alice:secret"),
		getData(2, "/acl/mine", false),
	}},
	{"ephemerals and session close", []step{
		connect(0), connect(1),
		create(0, "/eph", nil, open, pers),
		create(1, "/eph/a", nil, open, eph),
		create(1, "/eph/b", nil, open, proto.ModeEphemeralSequential),
		create(0, "/eph/mine", nil, open, eph),
		getEphemerals(1, "/"),
		getEphemerals(1, ""),
		getEphemerals(1, "/eph/a"),
		getEphemerals(1, "/nomatch"),
		getEphemerals(0, "/eph"),
		getAllChildrenNumber(0, "/eph"),
		getAllChildrenNumber(0, "/eph/none").want(proto.ErrNoNode),
		exists(1, "/eph/a", false),
		getChildren(0, "/eph", true),
		exists(0, "/eph/a", true),
		getData(0, "/eph/b0000000001", true),
		closeSession(1), // one txn deletes both ephemerals
		eventsUnordered(0),
		getChildren2(0, "/eph", false),
		exists(0, "/eph", false),
		connect(1),
		create(1, "/eph/c", nil, open, eph),
		drop(1), // connection loss keeps the session and its ephemerals
		exists(0, "/eph/c", false),
		reattach(1, false),
		getEphemerals(1, "/"),
	}},
	{"system nodes", []step{
		connect(0),
		getChildren(0, "/zookeeper", false),
		exists(0, "/", false),
		exists(0, "/zookeeper", false),
		getData(0, "/zookeeper/config", false).showsMembership(),
		getACL(0, "/zookeeper/config").showsMembership(),
		getACL(0, "/zookeeper"),
		getACL(0, "/"),
		getChildren(0, "/zookeeper/quota", false),
		setData(0, "/zookeeper/config", bs("x"), -1).want(proto.ErrNoAuth),
		delete0("/zookeeper").want(proto.ErrBadArguments),
		delete0("/zookeeper/quota").want(proto.ErrBadArguments),
		delete0("/zookeeper/config").want(proto.ErrBadArguments),
		delete0("/").want(proto.ErrBadArguments),
		create(0, "/zookeeper/mine", nil, open, pers),
		delete0("/zookeeper/mine"),
		getAllChildrenNumber(0, "/zookeeper"),
		reconfig(0).want(proto.ErrReconfigDisabled),
		whoAmI(0),
		syncPath(0, "/"),
	}},
	{"invalid paths", []step{
		connect(0),
		create(0, "/inv", nil, open, pers),
		create(0, "rel", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv//x", nil, open, pers),
		create(0, "/inv/.", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/..", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/a\x00b", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/\x1f", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/\u007f", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/\ufff5", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/\U0001F600", nil, open, pers).want(proto.ErrBadArguments),
		create(0, "/inv/ok\u00e9", nil, open, pers),
		create(0, "/inv/.hidden", nil, open, pers),
		setData(0, "rel", nil, -1).want(proto.ErrBadArguments),
		setData(0, "/inv/", nil, -1).want(proto.ErrBadArguments),
		setACL(0, "rel", open, -1).want(proto.ErrBadArguments),
		delete0("rel").want(proto.ErrBadArguments),
		delete0("/inv/a\x00b").want(proto.ErrBadArguments),
		delete0("/inv/"),
		getData(0, "rel", false),
		getChildren(0, "/inv/", false),
		exists(0, "/inv/a\x00b", false).want(proto.ErrBadArguments),
		exists(0, "rel", false),
		multi(0, mCheck("rel", -1)),
		getChildren(0, "/inv", false),
	}},
	{"unknown and invalid opcodes", []step{
		connect(0),
		rawOp(0, 999, nil).want(proto.ErrUnimplemented),
		closedByServer(0),
		connect(1),
		rawOp(1, proto.OpNotification, nil).want(proto.ErrUnimplemented),
		closedByServer(1),
		connect(2),
		rawOp(2, proto.OpCreateSession, nil), // 3.8.0: -5, connection kept
		exists(2, "/", false),
		rawOp(2, proto.OpSASL, []byte{0, 0, 0, 0}), // no SASL configured
		exists(2, "/", false),
		rawOp(2, proto.OpGetData, []byte{0, 0, 0, 9, '/'}).want(proto.ErrMarshallingError),
		exists(2, "/", false),
	}},
}

// delete0 deletes path on client 0 with any version.
func delete0(path string) step { return del(0, path, -1) }
