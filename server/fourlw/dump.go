package fourlw

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// expirySet is the element lines of one expiry bucket.
type expirySet struct {
	at    time.Time
	elems []string
}

// dumpExpiry renders ExpiryQueue.dump after its prefix: the set count, the
// element count, then each set in deadline order.
func dumpExpiry(b *strings.Builder, sets map[time.Time][]string, n int) {
	list := make([]expirySet, 0, len(sets))
	for at, elems := range sets {
		list = append(list, expirySet{at, elems})
	}
	slices.SortFunc(list, func(x, y expirySet) int { return x.at.Compare(y.at) })
	b.WriteString("Sets (" + strconv.Itoa(len(list)) + ")/(" + strconv.Itoa(n) + "):\n")
	for _, s := range list {
		b.WriteString(strconv.Itoa(len(s.elems)) + " expire at " + javaDate(s.at) + ":\n")
		for _, e := range s.elems {
			b.WriteString("\t" + e + "\n")
		}
	}
}

// dump renders DumpCommand: session expiry sets, ephemerals, connection
// expiry sets. Sessions and paths are sorted where ZooKeeper uses hash order.
func dump(sessions []SessionInfo, conns []ConnStats) string {
	sessions = slices.Clone(sessions)
	slices.SortFunc(sessions, func(x, y SessionInfo) int { return cmpInt64(x.ID, y.ID) })
	var b strings.Builder
	b.WriteString("SessionTracker dump:\nSession ")
	sets := map[time.Time][]string{}
	for _, s := range sessions {
		sets[s.Expires] = append(sets[s.Expires], "0x"+hex(s.ID))
	}
	dumpExpiry(&b, sets, len(sessions))

	b.WriteString("ephemeral nodes dump:\n")
	var owners []SessionInfo
	for _, s := range sessions {
		if len(s.Ephemerals) > 0 {
			owners = append(owners, s)
		}
	}
	b.WriteString("Sessions with Ephemerals (" + strconv.Itoa(len(owners)) + "):\n")
	for _, s := range owners {
		b.WriteString("0x" + hex(s.ID) + ":\n")
		paths := slices.Clone(s.Ephemerals)
		slices.Sort(paths)
		for _, p := range paths {
			b.WriteString("\t" + p + "\n")
		}
	}

	b.WriteString("Connections dump:\nConnections ")
	sets = map[time.Time][]string{}
	for _, c := range conns {
		at := c.Expires
		if at.IsZero() {
			at = c.Established.Add(c.Timeout)
		}
		sets[at] = append(sets[at], "ip: "+javaAddr(c.Remote)+" sessionId: 0x"+hex(c.SessionID))
	}
	dumpExpiry(&b, sets, len(conns))
	return b.String()
}

// wchs renders DataTree.dumpWatchesSummary and the closing newline.
func wchs(w WatchStats) string {
	return itoa(w.Connections) + " connections watching " + itoa(w.Paths) + " paths\nTotal watches:" +
		itoa(w.Total) + "\n"
}

// wchc lists data watches by session: "0x<sid>" then "\t<path>" lines.
func wchc(ws []Watch) string {
	bySession := map[int64][]string{}
	for _, w := range ws {
		bySession[w.SessionID] = append(bySession[w.SessionID], w.Path)
	}
	var b strings.Builder
	for _, id := range sortedKeys(bySession, cmpInt64) {
		b.WriteString("0x" + hex(id) + "\n")
		paths := bySession[id]
		slices.Sort(paths)
		for _, p := range paths {
			b.WriteString("\t" + p + "\n")
		}
	}
	b.WriteString("\n")
	return b.String()
}

// wchp lists data watches by path: "<path>" then "\t0x<sid>" lines.
func wchp(ws []Watch) string {
	byPath := map[string][]int64{}
	for _, w := range ws {
		byPath[w.Path] = append(byPath[w.Path], w.SessionID)
	}
	var b strings.Builder
	for _, p := range sortedKeys(byPath, strings.Compare) {
		b.WriteString(p + "\n")
		ids := byPath[p]
		slices.SortFunc(ids, cmpInt64)
		for _, id := range ids {
			b.WriteString("\t0x" + hex(id) + "\n")
		}
	}
	b.WriteString("\n")
	return b.String()
}

func sortedKeys[K comparable, V any](m map[K]V, cmp func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp)
	return keys
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
