package integration

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// normaliser rewrites the values that legitimately differ between two correct
// servers (zxid offsets, session ids, clock times) into run-relative names, so
// the rest of each reply can be compared byte for byte.
type normaliser struct {
	zxids    map[int64]int
	sessions map[int64]int
}

func newNormaliser() *normaliser {
	return &normaliser{zxids: map[int64]int{}, sessions: map[int64]int{}}
}

// clone returns a normaliser that names what n has seen the same way and
// does not change n.
func (n *normaliser) clone() *normaliser {
	c := newNormaliser()
	for k, v := range n.zxids {
		c.zxids[k] = v
	}
	for k, v := range n.sessions {
		c.sessions[k] = v
	}
	return c
}

// zxid names a positive zxid by its order of first appearance in the run
// ("Z1", "Z2", ...). Zero and the -1 of notifications are kept: they are not
// offsets but fixed protocol values.
func (n *normaliser) zxid(z int64) string {
	if z <= 0 {
		return strconv.FormatInt(z, 10)
	}
	i, ok := n.zxids[z]
	if !ok {
		i = len(n.zxids) + 1
		n.zxids[z] = i
	}
	return "Z" + strconv.Itoa(i)
}

// session names a session id by its order of first appearance ("S1", ...).
func (n *normaliser) session(s int64) string {
	if s == 0 {
		return "0"
	}
	i, ok := n.sessions[s]
	if !ok {
		i = len(n.sessions) + 1
		n.sessions[s] = i
	}
	return "S" + strconv.Itoa(i)
}

// stat prints every Stat field except the two times, of which only "zero or
// not" is kept (system nodes have all-zero stats).
func (n *normaliser) stat(s proto.Stat) string {
	t := "+"
	if s.Ctime == 0 && s.Mtime == 0 {
		t = "0"
	}
	return fmt.Sprintf("stat{cz=%s mz=%s pz=%s v=%d cv=%d av=%d eph=%s len=%d nc=%d t=%s}",
		n.zxid(s.Czxid), n.zxid(s.Mzxid), n.zxid(s.Pzxid), s.Version, s.Cversion, s.Aversion,
		n.session(s.EphemeralOwner), s.DataLength, s.NumChildren, t)
}

// data keeps the null/empty distinction ZooKeeper keeps.
func data(p []byte) string {
	if p == nil {
		return "null"
	}
	return strconv.Quote(string(p))
}

// sortedList prints an unordered server list (children, ephemerals) in order.
func sortedList(v []string) string {
	if v == nil {
		return "nil"
	}
	c := append([]string{}, v...)
	sort.Strings(c)
	return "[" + strings.Join(c, " ") + "]"
}

func acls(v []proto.ACL) string {
	parts := make([]string, len(v))
	for i, a := range v {
		parts[i] = fmt.Sprintf("%d:%s:%s", a.Perms, a.ID.Scheme, a.ID.ID)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

var eventNames = map[proto.EventType]string{
	proto.EventNodeCreated: "NodeCreated", proto.EventNodeDeleted: "NodeDeleted",
	proto.EventNodeDataChanged: "NodeDataChanged", proto.EventNodeChildrenChanged: "NodeChildrenChanged",
}

// event prints a notification: type, state, path and the header zxid.
func (n *normaliser) event(f frame) string {
	var ev proto.WatcherEvent
	d := proto.NewDecoder(f.body, maxFrame)
	ev.Decode(d)
	if err := d.Err(); err != nil {
		return "bad event: " + err.Error()
	}
	name, ok := eventNames[ev.Type]
	if !ok {
		name = fmt.Sprintf("type%d", ev.Type)
	}
	s := fmt.Sprintf("%s %s zxid=%s", name, ev.Path, n.zxid(f.zxid))
	if ev.State != proto.StateSyncConnected {
		s += fmt.Sprintf(" state=%d", ev.State)
	}
	if d.Remaining() > 0 {
		s += fmt.Sprintf(" trailing=%d", d.Remaining())
	}
	return s
}
