package tree

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	"github.com/herd-io/herd/server/proto"
)

func TestDigestID(t *testing.T) {
	// Values from ZooKeeper's documentation and DigestAuthenticationProvider.
	cases := map[string]string{
		"super:test":    "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		"user:password": "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=",
		"nocolon":       "nocolon:" + DigestID("nocolon")[len("nocolon:"):],
		"a:b:c":         "a:" + DigestID("a:b:c")[2:],
	}
	for in, want := range cases {
		if got := DigestID(in); got != want {
			t.Errorf("DigestID(%q) = %q, want %q", in, got, want)
		}
	}
}

func acl(perms int32, scheme, id string) proto.ACL {
	return proto.ACL{Perms: perms, ID: proto.Id{Scheme: scheme, ID: id}}
}

func TestFixupACL(t *testing.T) {
	digest := proto.Id{Scheme: "digest", ID: DigestID("u:p")}
	digest2 := proto.Id{Scheme: "digest", ID: DigestID("v:q")}
	authed := Caller{Ids: []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}, digest, digest2}}
	cases := []struct {
		name string
		c    Caller
		in   []proto.ACL
		want []proto.ACL
		err  proto.Error
	}{
		{"empty", anyone, nil, nil, proto.ErrInvalidACL},
		{"open", anyone, open, open, 0},
		{"dedupe", anyone, []proto.ACL{acl(1, "world", "anyone"), acl(1, "world", "anyone"), acl(2, "world", "anyone")},
			[]proto.ACL{acl(1, "world", "anyone"), acl(2, "world", "anyone")}, 0},
		{"world other", anyone, []proto.ACL{acl(31, "world", "someone")}, nil, proto.ErrInvalidACL},
		{"unknown scheme", anyone, []proto.ACL{acl(31, "foo", "bar")}, nil, proto.ErrInvalidACL},
		{"digest ok", anyone, []proto.ACL{acl(31, "digest", "u:h")}, []proto.ACL{acl(31, "digest", "u:h")}, 0},
		{"digest leading colon", anyone, []proto.ACL{acl(31, "digest", ":h")}, []proto.ACL{acl(31, "digest", ":h")}, 0},
		{"digest trailing colons dropped", anyone, []proto.ACL{acl(31, "digest", "u:h:")}, []proto.ACL{acl(31, "digest", "u:h:")}, 0},
		{"digest no colon", anyone, []proto.ACL{acl(31, "digest", "uh")}, nil, proto.ErrInvalidACL},
		{"digest two colons", anyone, []proto.ACL{acl(31, "digest", "u:h:x")}, nil, proto.ErrInvalidACL},
		{"digest empty hash", anyone, []proto.ACL{acl(31, "digest", "u:")}, nil, proto.ErrInvalidACL},
		{"ip", anyone, []proto.ACL{acl(31, "ip", "10.0.0.1")}, []proto.ACL{acl(31, "ip", "10.0.0.1")}, 0},
		{"ip cidr", anyone, []proto.ACL{acl(31, "ip", "10.0.0.0/8")}, []proto.ACL{acl(31, "ip", "10.0.0.0/8")}, 0},
		{"ip v6", anyone, []proto.ACL{acl(31, "ip", "::1/128")}, []proto.ACL{acl(31, "ip", "::1/128")}, 0},
		{"ip bad", anyone, []proto.ACL{acl(31, "ip", "300.0.0.1")}, nil, proto.ErrInvalidACL},
		{"ip bits", anyone, []proto.ACL{acl(31, "ip", "10.0.0.0/33")}, nil, proto.ErrInvalidACL},
		{"ip three parts", anyone, []proto.ACL{acl(31, "ip", "10.0.0")}, nil, proto.ErrInvalidACL},
		{"auth without ids", anyone, proto.CreatorAllACL, nil, proto.ErrInvalidACL},
		{"auth expands to digest ids only", authed, proto.CreatorAllACL,
			[]proto.ACL{{Perms: 31, ID: digest}, {Perms: 31, ID: digest2}}, 0},
		{"bad entry after good", anyone, []proto.ACL{acl(31, "world", "anyone"), acl(1, "x", "y")}, nil, proto.ErrInvalidACL},
	}
	for _, c := range cases {
		got, err := fixupACL(c.c, c.in)
		if proto.Code(err) != c.err {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCheckACL(t *testing.T) {
	dig := DigestID("u:p")
	cases := []struct {
		name string
		c    Caller
		acl  []proto.ACL
		perm int32
		ok   bool
	}{
		{"empty allows", anyone, nil, proto.PermAdmin, true},
		{"world", anyone, []proto.ACL{acl(proto.PermRead, "world", "anyone")}, proto.PermRead, true},
		{"world wrong perm", anyone, []proto.ACL{acl(proto.PermRead, "world", "anyone")}, proto.PermWrite, false},
		{"read or admin", anyone, []proto.ACL{acl(proto.PermAdmin, "world", "anyone")}, proto.PermRead | proto.PermAdmin, true},
		{"digest match", Caller{Ids: []proto.Id{{Scheme: "digest", ID: dig}}}, []proto.ACL{acl(31, "digest", dig)}, proto.PermWrite, true},
		{"digest mismatch", Caller{Ids: []proto.Id{{Scheme: "digest", ID: DigestID("u:x")}}}, []proto.ACL{acl(31, "digest", dig)}, proto.PermWrite, false},
		{"scheme must match", Caller{Ids: []proto.Id{{Scheme: "ip", ID: dig}}}, []proto.ACL{acl(31, "digest", dig)}, proto.PermWrite, false},
		{"super flag", Caller{Super: true}, []proto.ACL{acl(31, "digest", dig)}, proto.PermWrite, true},
		{"super id", Caller{Ids: []proto.Id{{Scheme: "super", ID: ""}}}, []proto.ACL{acl(31, "digest", dig)}, proto.PermWrite, true},
		{"ip exact", anyone, []proto.ACL{acl(31, "ip", "127.0.0.1")}, proto.PermRead, true},
		{"ip cidr 8", anyone, []proto.ACL{acl(31, "ip", "127.9.9.9/8")}, proto.PermRead, true},
		{"ip cidr 12 miss", Caller{Ids: []proto.Id{{Scheme: "ip", ID: "10.16.0.1"}}}, []proto.ACL{acl(31, "ip", "10.0.0.0/12")}, proto.PermRead, false},
		{"ip cidr 11 hit", Caller{Ids: []proto.Id{{Scheme: "ip", ID: "10.31.0.1"}}}, []proto.ACL{acl(31, "ip", "10.0.0.0/11")}, proto.PermRead, true},
		{"ip cidr 0", anyone, []proto.ACL{acl(31, "ip", "1.2.3.4/0")}, proto.PermRead, true},
		{"ip other", anyone, []proto.ACL{acl(31, "ip", "10.0.0.1")}, proto.PermRead, false},
		{"ip v6 vs v4", anyone, []proto.ACL{acl(31, "ip", "::1")}, proto.PermRead, false},
		{"ip v6", Caller{Ids: []proto.Id{{Scheme: "ip", ID: "fe80::1"}}}, []proto.ACL{acl(31, "ip", "fe80::/16")}, proto.PermRead, true},
		{"ip bad expr", anyone, []proto.ACL{acl(31, "ip", "127.0.0.1/40")}, proto.PermRead, false},
	}
	for _, c := range cases {
		err := checkACL(c.c, c.acl, c.perm)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestMaskACL(t *testing.T) {
	in := []proto.ACL{acl(31, "digest", "u:abc:def"), acl(1, "world", "anyone"), acl(1, "ip", "1.2.3.4")}
	got := maskACL(in)
	want := []proto.ACL{acl(31, "digest", "u:x"), acl(1, "world", "anyone"), acl(1, "ip", "1.2.3.4")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("maskACL = %v", got)
	}
	if in[0].ID.ID != "u:abc:def" {
		t.Fatal("maskACL modified its input")
	}
}

// TestACLListsShared: nodes created with equal lists (each request its own
// slice) point at one list, before and after a snapshot round trip; lists
// that differ stay apart.
func TestACLListsShared(t *testing.T) {
	tr, ck := New(), &clock{}
	mk := func(id string) []proto.ACL { return []proto.ACL{acl(31, "ip", id), acl(1, "world", "anyone")} }
	for i := range 20 {
		if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, fmt.Sprintf("/s%02d", i), nil, mk("10.0.0.1"), 0, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, fmt.Sprintf("/u%02d", i), nil, mk(fmt.Sprintf("10.0.1.%d", i)), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	check := func(tr *Tree) {
		t.Helper()
		for i := range 20 {
			s, u := tr.nodes.get(fmt.Sprintf("/s%02d", i)), tr.nodes.get(fmt.Sprintf("/u%02d", i))
			if s.acl != tr.nodes.get("/s00").acl {
				t.Fatalf("/s%02d has its own copy of a shared list", i)
			}
			if got, _, err := tr.GetACL(Caller{Super: true}, fmt.Sprintf("/u%02d", i)); err != nil || !reflect.DeepEqual(got, mk(fmt.Sprintf("10.0.1.%d", i))) || i > 0 && u.acl == tr.nodes.get("/u00").acl {
				t.Fatalf("/u%02d: %v %v", i, got, err)
			}
		}
	}
	check(tr)
	back, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, tr)))
	if err != nil {
		t.Fatal(err)
	}
	check(back)
}

// TestNodeLayout guards the node's size: 112 bytes (a size class), where a
// 24-byte ACL slice made it 128.
func TestNodeLayout(t *testing.T) {
	if n := unsafe.Sizeof(node{}); n > 112 {
		t.Fatalf("node is %d bytes", n)
	}
}
