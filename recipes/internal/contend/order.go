// Package contend is the machinery every herd recipe built on
// ephemeral-sequential nodes shares (Curator's LockInternals and its
// sorting driver): a contender node per participant in a directory, the
// children sorted by Curator's comparator, a rule that says from that order
// whether a node holds, and a wait that watches one other node only.
//
// Using Curator's node names and comparator exactly is what lets Go and
// Curator processes contend on one path.
package contend

import (
	"slices"
	"strings"
)

// Key is Curator's sorting key of a child name: for each lock name in turn,
// the text after its last occurrence (the name unchanged if it does not
// occur). With Curator's zero-padded ten-digit sequences the keys of one
// recipe sort numerically and the "_c_<uuid>-" protection prefix plays no
// part. A foreign child keeps its whole name as key, usually sorting after
// every sequence, exactly as Curator orders it.
func Key(name string, lockNames ...string) string {
	for _, ln := range lockNames {
		if i := strings.LastIndex(name, ln); i >= 0 {
			name = name[i+len(ln):]
		}
	}
	return name
}

// Sort orders children as Curator does for lockNames: by Key, compared as
// byte strings. Equal keys (which Curator leaves in server order) are
// ordered by full name, so every Go participant computes the same order.
func Sort(children []string, lockNames ...string) {
	slices.SortStableFunc(children, func(a, b string) int {
		if c := strings.Compare(Key(a, lockNames...), Key(b, lockNames...)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

// Rule decides, from the sorted children and the index of ours in them,
// whether our node holds; if not, it names the one child to watch (which
// must come before ours, so that the waits form a chain and no release wakes
// more than the waiters it lets through).
type Rule func(sorted []string, ours int) (holds bool, watch string)

// First is the mutex rule (Curator's maxLeases = 1): the first node holds;
// every other node watches its immediate predecessor.
func First(sorted []string, ours int) (bool, string) {
	if ours == 0 {
		return true, ""
	}
	return false, sorted[ours-1]
}
