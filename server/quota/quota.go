// Package quota holds ZooKeeper's quota layout and record format, shared by
// the server's data tree and the shell's setquota/listquota/delquota.
//
// A quota on path P lives in two znodes, as in ZooKeeper 3.8:
//
//	/zookeeper/quota<P>/zookeeper_limits  the limits, e.g. "count=10,bytes=-1"
//	/zookeeper/quota<P>/zookeeper_stats   the usage the server keeps, "count=3,bytes=42"
//
// A record is ZooKeeper's StatsTrack text: key=value pairs separated by ',' or
// ';'. A missing key reads as -1, which means "no limit". ZooKeeper 3.8.0
// writes count and bytes first and any other keys after a stray '=', sorted
// and ';'-separated: "count=2,bytes=-1=;byteHardLimit=-1;countHardLimit=5".
// Its reader (and Parse) takes that back as written.
package quota

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Paths and node names (ZooKeeper's Quotas).
const (
	Root      = "/zookeeper/quota"
	LimitNode = "zookeeper_limits"
	StatNode  = "zookeeper_stats"
)

// Keys of a record.
const (
	Count          = "count"
	Bytes          = "bytes"
	CountHardLimit = "countHardLimit"
	ByteHardLimit  = "byteHardLimit"
)

// ErrBadRecord is wrapped by Parse's errors.
var ErrBadRecord = errors.New("quota: bad record")

// Path returns the quota directory of path, /zookeeper/quota<path>.
func Path(path string) string { return Root + path }

// LimitPath returns the limits node of path.
func LimitPath(path string) string { return Root + path + "/" + LimitNode }

// StatPath returns the stats node of path.
func StatPath(path string) string { return Root + path + "/" + StatNode }

// Stats is one record, ZooKeeper's StatsTrack. The zero value is empty: every
// key reads -1.
type Stats struct {
	m map[string]int64
}

// splitPairs splits on runs of ',' and ';' (Java's split("[,;]+"): a
// leading separator gives an empty first field).
func splitPairs(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ',' && s[i] != ';' {
			continue
		}
		out = append(out, s[start:i])
		for i+1 < len(s) && (s[i+1] == ',' || s[i+1] == ';') {
			i++
		}
		start = i + 1
	}
	return append(out, s[start:])
}

// Parse reads a record as StatsTrack's constructor does, Java's split rules
// included: "count==5" reads count as -1 (an empty value), while a pair
// without a value ("count", "count=") is an error, as it throws in ZooKeeper.
func Parse(data []byte) (Stats, error) {
	s := Stats{m: map[string]int64{}}
	if len(data) == 0 {
		return s, nil
	}
	for _, pair := range javaSplit(splitPairs(string(data))) {
		kv := javaSplit(strings.Split(pair, "="))
		if len(kv) < 2 {
			return Stats{}, fmt.Errorf("%w: %q has no value", ErrBadRecord, pair)
		}
		n := int64(-1)
		if kv[1] != "" {
			var err error
			if n, err = strconv.ParseInt(kv[1], 10, 64); err != nil {
				return Stats{}, fmt.Errorf("%w: %q: %v", ErrBadRecord, pair, err)
			}
		}
		s.m[kv[0]] = n
	}
	return s, nil
}

// javaSplit drops trailing empty strings, as Java's String.split does.
func javaSplit(parts []string) []string {
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// Get returns the value of key, -1 when absent.
func (s Stats) Get(key string) int64 {
	if v, ok := s.m[key]; ok {
		return v
	}
	return -1
}

// Set sets key to v.
func (s *Stats) Set(key string, v int64) {
	if s.m == nil {
		s.m = map[string]int64{}
	}
	s.m[key] = v
}

// Has reports whether key is present.
func (s Stats) Has(key string) bool { _, ok := s.m[key]; return ok }

// String renders the record as ZooKeeper 3.8.0's StatsTrack.toString does:
// "count=C,bytes=B", then, if there are other keys, "=" and ";key=value" for
// each in sorted order.
func (s Stats) String() string { return string(s.Data()) }

// Data returns String as bytes, the data of a quota node.
func (s Stats) Data() []byte {
	b := make([]byte, 0, 64)
	b = append(b, Count+"="...)
	b = strconv.AppendInt(b, s.Get(Count), 10)
	b = append(b, ","+Bytes+"="...)
	b = strconv.AppendInt(b, s.Get(Bytes), 10)
	var keys []string
	for k := range s.m {
		if k != Count && k != Bytes {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		b = append(b, '=')
	}
	for _, k := range keys {
		b = append(b, ';')
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendInt(b, s.m[k], 10)
	}
	return b
}
