package tree

import (
	"net/netip"
	"strconv"
	"strings"
)

// parseIPExpr parses an ip-scheme ACL id, "addr" or "addr/bits", as
// IPAuthenticationProvider.isValid does.
func parseIPExpr(expr string) (addr []byte, bits int, ok bool) {
	a, b, hasBits := strings.Cut(expr, "/")
	addr = addrBytes(a)
	if addr == nil {
		return nil, 0, false
	}
	bits = len(addr) * 8
	if hasBits {
		n, err := strconv.ParseInt(b, 10, 32)
		if err != nil || n < 0 || int(n) > len(addr)*8 {
			return nil, 0, false
		}
		bits = int(n)
	}
	return addr, bits, true
}

// addrBytes parses a dotted IPv4 address the Java way (four decimal parts,
// each 0–255, leading zeros allowed) or an IPv6 address; nil if neither.
func addrBytes(s string) []byte {
	if strings.Contains(s, ":") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() {
			return nil
		}
		b := a.As16()
		return b[:]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return nil
	}
	out := make([]byte, 4)
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil || n < 0 || n > 255 {
			return nil
		}
		out[i] = byte(n)
	}
	return out
}

// ipMatches reports whether the caller's address id lies in the ACL's
// addr/bits prefix.
func ipMatches(id, expr string) bool {
	acl, bits, ok := parseIPExpr(expr)
	if !ok {
		return false
	}
	remote := addrBytes(id)
	if len(remote) != len(acl) {
		return false
	}
	for i := range acl {
		m := maskByte(bits - 8*i)
		if acl[i]&m != remote[i]&m {
			return false
		}
	}
	return true
}

// maskByte is the mask for a byte of which the first n bits count.
func maskByte(n int) byte {
	switch {
	case n >= 8:
		return 0xff
	case n <= 0:
		return 0
	}
	return byte(0xff << (8 - n))
}
