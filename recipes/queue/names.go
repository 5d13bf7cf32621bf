package queue

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herd-io/herd/framework"
)

// A work item's node name carries everything a consumer needs to schedule
// it, so that consumers never read an item's data before they claim it:
//
//	[_c_<uuid>-]item-<priority>-<due>-<attempts>-<seq>
//
// priority is 8 hex digits of the int32 priority with its sign bit flipped
// (so that names sort by priority), due is 12 hex digits of the Unix time in
// milliseconds before which the item is not delivered (0: at once), attempts
// is the number of failed deliveries so far (decimal), and seq is the
// server's 10-digit sequence number. Put's protected create adds the _c_
// prefix; requeued items (made inside a transaction) have none.
const workPrefix = "item-"

// item is a parsed work item name.
type item struct {
	name     string // the node name
	priority int32
	due      int64 // Unix ms, 0 for none
	attempts int
	seq      int64
}

// itemBase is the name given to the create; the server appends seq.
func itemBase(priority int32, due time.Time, attempts int) string {
	var ms int64
	if !due.IsZero() {
		ms = max(due.UnixMilli(), 0)
	}
	return fmt.Sprintf("%s%08x-%012x-%d-", workPrefix, uint32(priority)^(1<<31), ms, attempts)
}

// parseItem parses a work item name; ok is false for anything else.
func parseItem(name string) (it item, ok bool) {
	rest, found := strings.CutPrefix(framework.StripProtectedPrefix(name), workPrefix)
	if !found {
		return item{}, false
	}
	// SplitN: after 2^31 creates in one directory the server's sequence
	// number wraps to negative values, which carry a '-' of their own.
	parts := strings.SplitN(rest, "-", 4)
	if len(parts) != 4 {
		return item{}, false
	}
	p, err1 := strconv.ParseUint(parts[0], 16, 32)
	due, err2 := strconv.ParseInt(parts[1], 16, 64)
	attempts, err3 := strconv.Atoi(parts[2])
	seq, err4 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || attempts < 0 {
		return item{}, false
	}
	return item{name: name, priority: int32(uint32(p) ^ (1 << 31)), due: due, attempts: attempts, seq: seq}, true
}

// before orders ready items: lower priority value first, then FIFO.
func (a item) before(b item) bool {
	if a.priority != b.priority {
		return a.priority < b.priority
	}
	return a.seq < b.seq
}
