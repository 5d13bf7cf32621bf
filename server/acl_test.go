package server_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
)

// TestDigestAuthAndSuperDigest checks digest ACLs end to end with go-zk, the auth scheme's expansion, and the
// super digest's bypass.
func TestDigestAuthAndSuperDigest(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) {
		c.SuperDigest = tree.DigestID("super:secret")
	}))
	owner := connect(t, s.Addr)
	if err := owner.AddAuth("digest", []byte("alice:pw")); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Create("/secure", []byte("s"), 0, zk.DigestACL(zk.PermAll, "alice", "pw")); err != nil {
		t.Fatal(err)
	}
	// The "auth" scheme expands to the creator's digest id.
	if _, err := owner.Create("/mine", nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	acl, _, err := owner.GetACL("/mine")
	if err != nil || len(acl) != 1 || acl[0].Scheme != "digest" || acl[0].ID != tree.DigestID("alice:pw") {
		t.Fatalf("auth ACL expanded to %+v (%v)", acl, err)
	}

	anon := connect(t, s.Addr)
	if _, _, err := anon.Get("/secure"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("anonymous read: %v", err)
	}
	if _, err := anon.Set("/secure", nil, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("anonymous write: %v", err)
	}
	// CREATOR_ALL_ACL without any authenticated id is an invalid ACL.
	if _, err := anon.Create("/x", nil, 0, zk.AuthACL(zk.PermAll)); !errors.Is(err, zk.ErrInvalidACL) {
		t.Fatalf("auth ACL without auth: %v", err)
	}

	wrong := connect(t, s.Addr)
	if err := wrong.AddAuth("digest", []byte("alice:nope")); err != nil {
		t.Fatal(err) // digest auth itself always succeeds; the id just differs
	}
	if _, _, err := wrong.Get("/secure"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("wrong password read: %v", err)
	}

	same := connect(t, s.Addr)
	if err := same.AddAuth("digest", []byte("alice:pw")); err != nil {
		t.Fatal(err)
	}
	if data, _, err := same.Get("/secure"); err != nil || string(data) != "s" {
		t.Fatalf("authenticated read: %q %v", data, err)
	}

	super := connect(t, s.Addr)
	if err := super.AddAuth("digest", []byte("super:secret")); err != nil {
		t.Fatal(err)
	}
	if _, err := super.Set("/secure", []byte("by super"), -1); err != nil {
		t.Fatalf("super write: %v", err)
	}
	if err := super.Delete("/mine", -1); err != nil {
		t.Fatalf("super delete: %v", err)
	}
	if data, _, err := same.Get("/secure"); err != nil || string(data) != "by super" {
		t.Fatalf("after super write: %q %v", data, err)
	}
}

// TestAuthFailureClosesConnection checks that an auth packet for a scheme with no provider gets -115 and then
// the connection closes.
func TestAuthFailureClosesConnection(t *testing.T) {
	s := herdtest.Start(t)
	for _, p := range []proto.AuthPacket{
		{Scheme: "kerberos", Auth: []byte("x")}, // no such provider
		{Scheme: "world", Auth: []byte("anyone")},
	} {
		c := dial(t, s.Addr, wireclient.Options{})
		var e proto.Encoder
		p.Encode(&e)
		hdr, _, err := c.DoRaw(testCtx(t), proto.OpAuth, e.Bytes())
		if !errors.Is(err, proto.ErrAuthFailed) || hdr.Err != proto.ErrAuthFailed || hdr.Xid != proto.XidAuth {
			t.Fatalf("auth %q: %+v %v", p.Scheme, hdr, err)
		}
		waitClosed(t, c)
	}
	// A malformed auth packet is dropped with the connection, no reply.
	bad := dial(t, s.Addr, wireclient.Options{})
	if hdr, _, err := bad.DoRaw(testCtx(t), proto.OpAuth, []byte{0, 0, 0, 0, 0, 0, 0, 9, 'd'}); !errors.Is(err, wireclient.ErrConnectionLoss) {
		t.Fatalf("truncated auth packet: %+v %v", hdr, err)
	}
	// The ip and digest providers accept anything: ip adds the connection's
	// own address, digest hashes whatever it gets (no ':' is all user name).
	c0 := dial(t, s.Addr, wireclient.Options{})
	for _, p := range []proto.AuthPacket{{Scheme: "ip", Auth: []byte("10.0.0.1")}, {Scheme: "digest", Auth: []byte("nocolon")}} {
		var e proto.Encoder
		p.Encode(&e)
		if _, _, err := c0.DoRaw(testCtx(t), proto.OpAuth, e.Bytes()); err != nil {
			t.Fatalf("auth %s: %v", p.Scheme, err)
		}
	}
	var who proto.WhoAmIResponse
	if _, err := c0.Do(testCtx(t), proto.OpWhoAmI, nil, &who); err != nil || !sameInfos(who.Infos, []proto.ClientInfo{
		{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "nocolon"}}) {
		t.Fatalf("whoAmI after ip and digest auth: %+v %v", who.Infos, err)
	}
	// go-zk sees the failure as an error too.
	c := connect(t, s.Addr)
	if err := c.AddAuth("kerberos", []byte("x")); !errors.Is(err, zk.ErrAuthFailed) {
		t.Fatalf("go-zk AddAuth with an unknown scheme: %v", err)
	}
	if mntr := fourLetter(t, s.Addr, "mntr"); !strings.Contains(mntr, "zk_auth_failed_count\t3\n") {
		t.Errorf("mntr after three failed auths:\n%s", mntr)
	}
}

// TestIPACL checks ip ACLs: exact address, CIDR, a foreign subnet and an invalid address.
func TestIPACL(t *testing.T) {
	s := herdtest.Start(t)
	c := dial(t, s.Addr, wireclient.Options{})
	for path, acl := range map[string][]proto.ACL{
		"/local":   {{Perms: proto.PermAll, ID: proto.Id{Scheme: "ip", ID: "127.0.0.1"}}},
		"/subnet":  {{Perms: proto.PermRead, ID: proto.Id{Scheme: "ip", ID: "127.0.0.0/8"}}},
		"/faraway": {{Perms: proto.PermAll, ID: proto.Id{Scheme: "ip", ID: "10.1.2.0/24"}}},
	} {
		req := &proto.CreateRequest{Path: path, Data: []byte(path), ACL: acl}
		if _, err := c.Do(testCtx(t), proto.OpCreate, req, &proto.CreateResponse{}); err != nil {
			t.Fatalf("create %s: %v", path, err)
		}
	}
	if d, _ := getData(t, c, "/local", false); d != "/local" {
		t.Fatalf("/local data %q", d)
	}
	if d, _ := getData(t, c, "/subnet", false); d != "/subnet" {
		t.Fatalf("/subnet data %q", d)
	}
	ctx := testCtx(t)
	if _, err := c.Do(ctx, proto.OpSetData, &proto.SetDataRequest{Path: "/subnet", Version: -1}, nil); !errors.Is(err, proto.ErrNoAuth) {
		t.Fatalf("write without WRITE perm: %v", err)
	}
	if _, err := c.Do(ctx, proto.OpGetData, &proto.PathWatchRequest{Path: "/faraway"}, nil); !errors.Is(err, proto.ErrNoAuth) {
		t.Fatalf("read from outside the subnet: %v", err)
	}
	if _, err := c.Do(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/bad", ACL: []proto.ACL{{Perms: 1, ID: proto.Id{Scheme: "ip", ID: "300.1.1.1"}}}}, nil); !errors.Is(err, proto.ErrInvalidACL) {
		t.Fatalf("invalid ip ACL: %v", err)
	}
}

// TestWhoAmI checks whoAmI's identities: the ip id, digest users, and the super id.
func TestWhoAmI(t *testing.T) {
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) {
		c.SuperDigest = tree.DigestID("super:secret")
	}))
	who := func(c *wireclient.Conn) []proto.ClientInfo {
		var r proto.WhoAmIResponse
		if _, err := c.Do(testCtx(t), proto.OpWhoAmI, nil, &r); err != nil {
			t.Fatal(err)
		}
		return r.Infos
	}
	auth := func(c *wireclient.Conn, cred string) {
		var e proto.Encoder
		(&proto.AuthPacket{Scheme: "digest", Auth: []byte(cred)}).Encode(&e)
		if _, _, err := c.DoRaw(testCtx(t), proto.OpAuth, e.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	// ZooKeeper keeps a connection's ids in a HashSet, so only the set of
	// entries is compared here, not their order.
	eq := func(got []proto.ClientInfo, want ...proto.ClientInfo) {
		t.Helper()
		if !sameInfos(got, want) {
			t.Fatalf("whoAmI %+v, want %+v (any order)", got, want)
		}
	}
	ip := proto.ClientInfo{AuthScheme: "ip", User: "127.0.0.1"}
	c := dial(t, s.Addr, wireclient.Options{})
	eq(who(c), ip)
	auth(c, "bob:pw")
	auth(c, "bob:pw") // the same id is not added twice
	auth(c, "carol:pw")
	eq(who(c), ip, proto.ClientInfo{AuthScheme: "digest", User: "bob"}, proto.ClientInfo{AuthScheme: "digest", User: "carol"})

	// The super digest adds a "super" id (no provider, so no user name)
	// besides the digest id, as DigestAuthenticationProvider does.
	sc := dial(t, s.Addr, wireclient.Options{})
	auth(sc, "super:secret")
	eq(who(sc), ip, proto.ClientInfo{AuthScheme: "super", User: ""}, proto.ClientInfo{AuthScheme: "digest", User: "super"})
}

// sameInfos reports whether two whoAmI lists hold the same entries, in any
// order.
func sameInfos(got, want []proto.ClientInfo) bool {
	if len(got) != len(want) {
		return false
	}
	count := map[proto.ClientInfo]int{}
	for _, x := range want {
		count[x]++
	}
	for _, x := range got {
		if count[x] == 0 {
			return false
		}
		count[x]--
	}
	return true
}
