package server

import (
	"reflect"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

func TestJavaStringHash(t *testing.T) {
	// Printed by Java's "…".hashCode().
	for s, want := range map[string]int32{"": 0, "a": 97, "digest": -1331913276, "ip": 3367, "hello world": 1794106052} {
		if got := javaStringHash(s); got != want {
			t.Errorf("hash(%q) = %d, want %d", s, got, want)
		}
	}
}

// The expected orders were printed by a Java hash set of ZooKeeper 3.8.0's own
// org.apache.zookeeper.data.Id objects, filled in the order given (bucket
// order is the same for HashMap and ConcurrentHashMap at these sizes).
func TestJavaSetOrderMatchesZooKeeper(t *testing.T) {
	ip := proto.Id{Scheme: "ip", ID: "127.0.0.1"}
	digest := func(s string) proto.Id { return proto.Id{Scheme: "digest", ID: s} }
	bob := digest("bob:ikIaKsbtGweaHnb/jKn7OHqbunM=")
	u := digest("u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=")
	carol := digest("carol:RffyCdXXV1Js0ywLAoP5/l25yKs=")
	alice := digest("alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")
	for _, c := range []struct{ in, want []proto.Id }{
		{[]proto.Id{ip, bob}, []proto.Id{bob, ip}},
		{[]proto.Id{ip, u}, []proto.Id{ip, u}},
		{[]proto.Id{ip, carol, alice}, []proto.Id{alice, carol, ip}},
		{nil, []proto.Id{}},
	} {
		if got := javaSetOrder(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("javaSetOrder(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
