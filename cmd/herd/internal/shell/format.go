package shell

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/herd-io/herd/server/proto"
)

// javaDate renders ms-since-epoch the way Java's Date.toString does, in the
// local time zone, so stat output matches zkCli byte for byte.
func javaDate(ms int64) string {
	return time.UnixMilli(ms).Local().Format("Mon Jan 02 15:04:05 MST 2006")
}

// hex renders a long as Long.toHexString does (unsigned, lower case, no padding).
func hex(v int64) string { return fmt.Sprintf("0x%x", uint64(v)) }

// writeStat prints a stat block in StatPrinter's order and format.
func writeStat(w io.Writer, s proto.Stat) {
	fmt.Fprintf(w, "cZxid = %s\nctime = %s\nmZxid = %s\nmtime = %s\npZxid = %s\n",
		hex(s.Czxid), javaDate(s.Ctime), hex(s.Mzxid), javaDate(s.Mtime), hex(s.Pzxid))
	fmt.Fprintf(w, "cversion = %d\ndataVersion = %d\naclVersion = %d\nephemeralOwner = %s\ndataLength = %d\nnumChildren = %d\n",
		s.Cversion, s.Version, s.Aversion, hex(s.EphemeralOwner), s.DataLength, s.NumChildren)
}

// statJSON is a stat with zkCli's field names, for -o json.
type statJSON struct {
	Czxid          int64 `json:"cZxid"`
	Ctime          int64 `json:"ctime"`
	Mzxid          int64 `json:"mZxid"`
	Mtime          int64 `json:"mtime"`
	Pzxid          int64 `json:"pZxid"`
	Cversion       int32 `json:"cversion"`
	DataVersion    int32 `json:"dataVersion"`
	ACLVersion     int32 `json:"aclVersion"`
	EphemeralOwner int64 `json:"ephemeralOwner"`
	DataLength     int32 `json:"dataLength"`
	NumChildren    int32 `json:"numChildren"`
}

func toStatJSON(s proto.Stat) *statJSON {
	return &statJSON{s.Czxid, s.Ctime, s.Mzxid, s.Mtime, s.Pzxid, s.Cversion, s.Version, s.Aversion,
		s.EphemeralOwner, s.DataLength, s.NumChildren}
}

var eventTypeNames = map[proto.EventType]string{
	proto.EventNone: "None", proto.EventNodeCreated: "NodeCreated", proto.EventNodeDeleted: "NodeDeleted",
	proto.EventNodeDataChanged: "NodeDataChanged", proto.EventNodeChildrenChanged: "NodeChildrenChanged",
	5: "DataWatchRemoved", 6: "ChildWatchRemoved", 7: "PersistentWatchRemoved",
}

func eventTypeName(t proto.EventType) string {
	if n, ok := eventTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Unknown(%d)", int32(t))
}

// watchedEvent renders an event as WatchedEvent.toString does in 3.8.
func watchedEvent(e Event) string {
	path := e.Path
	if path == "" {
		path = "null"
	}
	return "WatchedEvent state:" + e.State.String() + " type:" + eventTypeName(e.Type) + " path:" + path
}

// permString renders permission bits in zkCli's order (cdrwa).
func permString(p int32) string {
	var b strings.Builder
	for _, x := range []struct {
		bit int32
		c   byte
	}{{proto.PermCreate, 'c'}, {proto.PermDelete, 'd'}, {proto.PermRead, 'r'}, {proto.PermWrite, 'w'}, {proto.PermAdmin, 'a'}} {
		if p&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// parseACL parses zkCli's ACL syntax: scheme:id:perms[,scheme:id:perms...],
// where the id may itself contain colons (digest user:hash, ip v6).
func parseACL(s string) ([]proto.ACL, error) {
	var acl []proto.ACL
	for _, part := range strings.Split(s, ",") {
		first := strings.Index(part, ":")
		last := strings.LastIndex(part, ":")
		if first < 0 || first == last {
			return nil, fmt.Errorf("%w: %s does not have the form scheme:id:perm", errBadACL, part)
		}
		perms, err := parsePerms(part[last+1:])
		if err != nil {
			return nil, err
		}
		acl = append(acl, proto.ACL{Perms: perms, ID: proto.Id{Scheme: part[:first], ID: part[first+1 : last]}})
	}
	return acl, nil
}

func parsePerms(s string) (int32, error) {
	var p int32
	for _, c := range s {
		switch c {
		case 'r':
			p |= proto.PermRead
		case 'w':
			p |= proto.PermWrite
		case 'c':
			p |= proto.PermCreate
		case 'd':
			p |= proto.PermDelete
		case 'a':
			p |= proto.PermAdmin
		default:
			return 0, fmt.Errorf("%w: unknown perm type: %c", errBadACL, c)
		}
	}
	return p, nil
}
