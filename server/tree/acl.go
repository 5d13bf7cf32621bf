package tree

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// DigestID returns the digest-scheme id for "user:password" credentials, as
// DigestAuthenticationProvider.generateDigest: the user, a colon and the
// standard Base64 of SHA-1 over the whole string.
func DigestID(userPass string) string {
	user, _, _ := strings.Cut(userPass, ":")
	sum := sha1.Sum([]byte(userPass))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// authenticatedScheme reports schemes whose provider says isAuthenticated(),
// i.e. the ids the "auth" ACL scheme expands to (ip is not one of them).
func authenticatedScheme(s string) bool {
	return s == "digest" || s == "sasl" || s == "x509"
}

// fixupACL validates and expands an ACL list for create and setACL
// (PrepRequestProcessor.fixupACL). The result must not be modified.
func fixupACL(c Caller, acl []proto.ACL) ([]proto.ACL, error) {
	uniq := dedupeACL(acl)
	if len(uniq) == 0 {
		return nil, fmt.Errorf("empty ACL: %w", proto.ErrInvalidACL)
	}
	if len(uniq) == 1 && uniq[0] == proto.OpenACLUnsafe[0] {
		return proto.OpenACLUnsafe, nil // share the common list
	}
	out := make([]proto.ACL, 0, len(uniq))
	for _, a := range uniq {
		switch {
		case a.ID.Scheme == "world" && a.ID.ID == "anyone":
			out = append(out, a)
		case a.ID.Scheme == "auth":
			found := false
			for _, id := range c.Ids {
				if authenticatedScheme(id.Scheme) {
					found = true
					out = append(out, proto.ACL{Perms: a.Perms, ID: id})
				}
			}
			if !found {
				return nil, fmt.Errorf("auth ACL without authenticated ids: %w", proto.ErrInvalidACL)
			}
		case validID(a.ID):
			out = append(out, a)
		default:
			return nil, fmt.Errorf("ACL id %s:%s: %w", a.ID.Scheme, a.ID.ID, proto.ErrInvalidACL)
		}
	}
	return out, nil
}

// dedupeACL removes repeated entries, keeping first occurrences in order.
func dedupeACL(acl []proto.ACL) []proto.ACL {
	for i := 1; i < len(acl); i++ {
		for j := 0; j < i; j++ {
			if acl[i] == acl[j] {
				return dedupeSlow(acl)
			}
		}
	}
	return acl
}

func dedupeSlow(acl []proto.ACL) []proto.ACL {
	out := make([]proto.ACL, 0, len(acl))
	for _, a := range acl {
		dup := false
		for _, b := range out {
			if a == b {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

// validID is the isValid check of the registered providers (digest, ip).
// "world" reaches here only with an id other than "anyone", which has no
// provider and so is invalid, like any unknown scheme.
func validID(id proto.Id) bool {
	switch id.Scheme {
	case "digest":
		return len(javaSplit(id.ID, ':')) == 2
	case "ip":
		_, _, ok := parseIPExpr(id.ID)
		return ok
	}
	return false
}

// javaSplit mimics Java's String.split with a one-character literal: trailing
// empty strings are dropped.
func javaSplit(s string, sep byte) []string {
	parts := strings.Split(s, string(sep))
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// isSuper reports whether c bypasses ACL checks.
func (c Caller) isSuper() bool {
	if c.Super {
		return true
	}
	for _, id := range c.Ids {
		if id.Scheme == "super" {
			return true
		}
	}
	return false
}

// checkACL returns ErrNoAuth unless an entry of acl grants one of perm's bits
// to one of the caller's ids (ZooKeeperServer.checkACL). An empty ACL allows
// everything.
func checkACL(c Caller, acl []proto.ACL, perm int32) error {
	if allowed(c, acl, perm) {
		return nil
	}
	return proto.ErrNoAuth
}

func allowed(c Caller, acl []proto.ACL, perm int32) bool {
	if len(acl) == 0 || c.isSuper() {
		return true
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID.Scheme == "world" && a.ID.ID == "anyone" {
			return true
		}
		for _, id := range c.Ids {
			if id.Scheme == a.ID.Scheme && idMatches(id.Scheme, id.ID, a.ID.ID) {
				return true
			}
		}
	}
	return false
}

// idMatches is the provider's matches(id, aclExpr).
func idMatches(scheme, id, expr string) bool {
	switch scheme {
	case "ip":
		return ipMatches(id, expr)
	case "digest", "sasl", "x509":
		return id == expr
	}
	return false // no provider registered
}

// maskACL hides digest hashes from callers without ADMIN, as getACL does:
// everything after the first ':' becomes "x".
func maskACL(acl []proto.ACL) []proto.ACL {
	out := make([]proto.ACL, len(acl))
	for i, a := range acl {
		if a.ID.Scheme == "digest" {
			if j := strings.IndexByte(a.ID.ID, ':'); j >= 0 {
				a.ID.ID = a.ID.ID[:j] + ":x"
			}
		}
		out[i] = a
	}
	return out
}

// CheckPerm returns ErrNoAuth unless the caller holds perm on path (ZooKeeper
// checks WRITE on /zookeeper/config before a reconfig), or ErrNoNode.
func (t *Tree) CheckPerm(c Caller, path string, perm int32) error {
	n := t.nodes.get(path)
	if n == nil {
		return proto.ErrNoNode
	}
	return checkACL(c, n.acls(), perm)
}

// The shared lists every tree starts with.
var (
	openACL = &proto.OpenACLUnsafe
	readACL = &proto.ReadACLUnsafe
)

// aclCache shares ACL lists between nodes: a node points at a list, and
// nodes created with equal lists point at the same one while it is among
// the few lists used most recently. It holds no list forever, so a tree
// with ever new ACLs (one digest per user, say) keeps no dead ones; those
// nodes simply get a list each. A snapshot restore shares each list of its
// table across every node that has it.
type aclCache struct {
	recent [8]*[]proto.ACL // most recently used first
}

// intern returns a shared pointer to a list equal to acl (which must not be
// modified afterwards).
func (c *aclCache) intern(acl []proto.ACL) *[]proto.ACL {
	if len(acl) == 1 && acl[0] == proto.OpenACLUnsafe[0] {
		return openACL
	}
	i := 0
	for ; i < len(c.recent); i++ {
		if p := c.recent[i]; p == nil || slices.Equal(*p, acl) {
			break
		}
	}
	var p *[]proto.ACL
	if i < len(c.recent) && c.recent[i] != nil {
		p = c.recent[i]
	} else {
		// A new header only here: &acl would move acl to the heap on
		// every call.
		p = new([]proto.ACL)
		*p = acl
		i = min(i, len(c.recent)-1) // the least recently used goes
	}
	copy(c.recent[1:i+1], c.recent[:i])
	c.recent[0] = p
	return p
}
