package tree

import (
	"errors"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// nodeMap returns the tree's nodes by path.
func nodeMap(tr *Tree) map[string]*node {
	m := make(map[string]*node, tr.nodes.len())
	tr.nodes.all(func(n *node) bool {
		m[n.path()] = n
		return true
	})
	return m
}

// clock hands out increasing zxids and times, like a log would.
type clock struct{ zxid, time int64 }

func (c *clock) next() Txn {
	c.zxid++
	c.time += 10
	return Txn{Zxid: c.zxid, Time: c.time}
}

var (
	anyone = Caller{Session: 1, Ids: []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}}}
	open   = proto.OpenACLUnsafe
)

// mustCreate creates a node or fails the test.
func mustCreate(t *testing.T, tr *Tree, ck *clock, c Caller, path string, mode proto.CreateMode) string {
	t.Helper()
	op := proto.OpCreate
	if mode == proto.ModeContainer {
		op = proto.OpCreateContainer
	}
	p, _, err := tr.Create(ck.next(), c, op, path, []byte("d"), open, mode, 0)
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	return p
}

func mustStat(t *testing.T, tr *Tree, path string) proto.Stat {
	t.Helper()
	st, ok := tr.Stat(path)
	if !ok {
		t.Fatalf("%s missing", path)
	}
	return st
}

func wantCode(t *testing.T, what string, err error, want proto.Error) {
	t.Helper()
	if got := proto.Code(err); got != want {
		t.Fatalf("%s: code %d (%v), want %d", what, got, err, want)
	}
	if want != proto.ErrOK && !errors.Is(err, want) {
		t.Fatalf("%s: errors.Is(%v, %v) is false", what, err, want)
	}
}
