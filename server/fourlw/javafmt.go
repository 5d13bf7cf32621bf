package fourlw

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// javaDouble formats f as Java's Double.toString does, which is how
// ZooKeeper prints non-integer numbers ("0.0", "1.8182", "1.0E7").
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1.5E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// millis truncates d to whole milliseconds, ZooKeeper's latency unit.
func millis(d time.Duration) int64 { return d.Milliseconds() }

// avgMillis is an average latency in milliseconds rounded half-up to 4
// decimals, as ServerStats.getAvgLatency returns it.
func avgMillis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	return javaDouble(math.Floor(ms*10000+0.5) / 10000)
}

// javaAddr formats a remote address as Java's InetSocketAddress.toString does
// for an address without a host name: "/1.2.3.4:5" or "/0:0:0:0:0:0:0:1:5".
func javaAddr(ap netip.AddrPort) string {
	a := ap.Addr().Unmap()
	var host string
	if a.Is6() {
		b := a.As16()
		parts := make([]string, 8)
		for i := range parts {
			parts[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
		}
		host = strings.Join(parts, ":")
		if z := a.Zone(); z != "" {
			host += "%" + z
		}
	} else {
		host = a.String()
	}
	return "/" + host + ":" + strconv.Itoa(int(ap.Port()))
}

// javaDate formats t as java.util.Date.toString does.
func javaDate(t time.Time) string { return t.Format("Mon Jan 02 15:04:05 MST 2006") }

// hex formats a long as Java's Long.toHexString (two's complement).
func hex(n int64) string { return strconv.FormatUint(uint64(n), 16) }

// unixMilli is t in Unix milliseconds, 0 for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
