package lock

import (
	"context"
	"strings"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/contend"
)

// Curator's node names for the two sides; equal lengths on purpose.
const (
	readName  = "__READ__"
	writeName = "__WRIT__"
)

// RWMutex is Curator's InterProcessReadWriteLock: many readers or one
// writer, write-preferring (a reader queued behind a writer waits for it),
// fair in the order nodes were created.
//
// Layout (Curator's, so Go and Curator readers and writers share it):
//
//	<path>/                                  container
//	  _c_<uuid>-__WRIT__0000000004           the writer holding the lock
//	  _c_<uuid>-__READ__0000000004           a read lock taken by that writer (see below)
//	  _c_<uuid>-__READ__0000000005           reader: waits, watching ...WRIT__04
//	  _c_<uuid>-__WRIT__0000000006           writer: waits, watching ...READ__05
//	  _c_<uuid>-__READ__0000000007           reader: waits, watching ...WRIT__06
//
// Children sort by the sequence after "__READ__" or "__WRIT__". A writer
// holds when its node is first and watches its immediate predecessor; a
// reader holds when no writer's node comes before it and otherwise watches
// the last writer before it. Readers between two writers all wake when the
// first releases, because they all get the lock then; a reader behind the
// second writer is not woken by the first (Curator watches the first writer
// from every reader, which wakes them all for nothing).
//
// The write holder may take the read lock (Curator's downgrade: take write,
// take read, release write). Its read node is then a plain EPHEMERAL node
// named after the write node's sequence, so it keeps the writer's place and
// a writer queued meanwhile cannot slip in when the write lock is released
// (Curator 5.4 creates a sequential read node there, behind such a writer).
// Taking the write lock while holding only the read lock waits for that read
// lock's release, as sync.RWMutex does.
//
// Each side is a Mutex with the Mutex's methods, tokens and connection-state
// behaviour (read holds overlap, so a read token orders a read hold only
// against the writes before and after it), and holds one lock at a time: goroutines that share the
// RWMutex value take its read lock one after another. For concurrent
// readers in one process, give each its own RWMutex.
type RWMutex struct {
	read, write *Mutex
}

// NewRWMutex returns a read-write lock on path. Options apply to both sides.
func NewRWMutex(c *framework.Client, path string, opts ...Option) *RWMutex {
	names := []string{readName, writeName}
	rw := &RWMutex{}
	rw.write = newMutex(c, path, writeName, names, contend.First, opts)
	rw.read = newMutex(c, path, readName, names, rw.readRule, opts)
	rw.write.only, rw.read.only = writeName, readName
	rw.read.create = rw.createRead
	return rw
}

// ReadLock is the shared side.
func (rw *RWMutex) ReadLock() *Mutex { return rw.read }

// WriteLock is the exclusive side.
func (rw *RWMutex) WriteLock() *Mutex { return rw.write }

// readRule: a reader holds unless a writer other than our own write holder
// comes before it; then it watches the last such writer.
func (rw *RWMutex) readRule(sorted []string, ours int) (bool, string) {
	own := ""
	if n := rw.write.heldNode(); n != nil {
		own = n.Name
	}
	last := ""
	for _, k := range sorted[:ours] {
		if strings.Contains(k, writeName) && k != own {
			last = k
		}
	}
	return last == "", last
}

// createRead makes a reader's node: sequential, or for the write holder a
// plain node carrying the write node's sequence.
func (rw *RWMutex) createRead(ctx context.Context) (*contend.Node, error) {
	if w := rw.write.heldNode(); w != nil {
		seq := contend.Key(w.Name, readName, writeName)
		return rw.read.k.CreateAs(ctx, readName+seq, framework.ModeEphemeral)
	}
	return rw.read.k.Create(ctx)
}
