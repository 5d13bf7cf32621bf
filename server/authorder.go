package server

import (
	"sort"
	"unicode/utf16"

	"github.com/herd-io/herd/server/proto"
)

// javaSetOrder returns ids in the order ZooKeeper iterates a connection's
// authentication ids: they live in a set backed by a ConcurrentHashMap, so
// whoAmI lists them (and the auth ACL scheme expands them) in hash-bucket
// order, not the order they were added. Clients print that list as is, so
// herd reproduces it.
func javaSetOrder(ids []proto.Id) []proto.Id {
	// The table starts at 16 buckets and doubles once it holds 0.75 of that.
	buckets := 16
	for float64(len(ids)) >= 0.75*float64(buckets) {
		buckets *= 2
	}
	type slot struct {
		id     proto.Id
		bucket int
	}
	s := make([]slot, len(ids))
	for i, id := range ids {
		h := javaIDHash(id)
		h ^= int32(uint32(h) >> 16) // the map's spread of the hash
		s[i] = slot{id, int(uint32(h) & uint32(buckets-1))}
	}
	// Within a bucket the order is insertion order, so a stable sort suffices.
	sort.SliceStable(s, func(i, j int) bool { return s[i].bucket < s[j].bucket })
	out := make([]proto.Id, len(ids))
	for i := range s {
		out[i] = s[i].id
	}
	return out
}

// javaIDHash is the jute-generated Id.hashCode: 37*(37*17+scheme)+id.
func javaIDHash(id proto.Id) int32 {
	r := int32(17)
	r = 37*r + javaStringHash(id.Scheme)
	r = 37*r + javaStringHash(id.ID)
	return r
}

// javaStringHash is String.hashCode over the string's UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}
