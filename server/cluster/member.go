package cluster

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/server/zoocfg"
)

// Member is one server of a cluster, as a zoo.cfg server.N line describes it.
type Member struct {
	// ID is N of server.N (the member's myid).
	ID int
	zoocfg.Server
}

// Observer reports whether the member is an observer (a Raft non-voter that
// serves reads and forwards writes).
func (m Member) Observer() bool { return m.Role == zoocfg.RoleObserver }

// Key is the zoo.cfg key of the member's line, "server.N".
func (m Member) Key() string { return "server." + strconv.Itoa(m.ID) }

// Line is the member's zoo.cfg line, "server.N=host:peer:election:role[;client]".
func (m Member) Line() string { return m.Key() + "=" + m.Server.String() }

// ParseMember reads "server.N=value" or, with id > 0, a bare value.
func ParseMember(id int, line string) (Member, error) {
	value := line
	if k, v, ok := strings.Cut(line, "="); ok {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(k), "server."))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(k), "server.") || n <= 0 {
			return Member{}, fmt.Errorf("cluster: %q: want server.N=host:peerPort:electionPort[:role][;clientAddr]", line)
		}
		id, value = n, v
	}
	if id <= 0 {
		return Member{}, fmt.Errorf("cluster: %q: the server id must be positive", line)
	}
	s, err := zoocfg.ParseServer(strings.TrimSpace(value))
	if err != nil {
		return Member{}, fmt.Errorf("cluster: server.%d: %w", id, err)
	}
	return Member{ID: id, Server: s}, nil
}

// address is what Raft stores for the member: its server.N value without the
// role (Raft's suffrage holds that), so that the replicated configuration
// alone can render /zookeeper/config on every node.
func (m Member) address() raft.ServerAddress {
	s := m.Server
	s.Role = zoocfg.RoleParticipant
	v := s.String()
	return raft.ServerAddress(strings.Replace(v, ":"+zoocfg.RoleParticipant, "", 1))
}

func (m Member) raftID() raft.ServerID { return raft.ServerID(strconv.Itoa(m.ID)) }

// peerDialAddr is where the member's Raft transport listens.
func (m Member) peerDialAddr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.PeerPort)) }

// electionDialAddr is where the member's herd peer service listens.
func (m Member) electionDialAddr() string {
	return net.JoinHostPort(m.Host, strconv.Itoa(m.ElectionPort))
}

// memberFromRaft decodes a configuration entry written by address().
func memberFromRaft(s raft.Server) (Member, error) {
	id, err := strconv.Atoi(string(s.ID))
	if err != nil {
		return Member{}, fmt.Errorf("cluster: raft server id %q is not a number", s.ID)
	}
	m, err := ParseMember(id, string(s.Address))
	if err != nil {
		return Member{}, err
	}
	if s.Suffrage != raft.Voter {
		m.Role = zoocfg.RoleObserver
	}
	return m, nil
}

// membersFromRaft decodes a whole configuration, sorted by id.
func membersFromRaft(c raft.Configuration) ([]Member, error) {
	out := make([]Member, 0, len(c.Servers))
	for _, s := range c.Servers {
		m, err := memberFromRaft(s)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sortMembers(out)
	return out, nil
}

func sortMembers(ms []Member) { sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID }) }

// raftConfiguration is the Raft configuration a list of members bootstraps.
func raftConfiguration(ms []Member) raft.Configuration {
	var c raft.Configuration
	for _, m := range ms {
		suffrage := raft.Voter
		if m.Observer() {
			suffrage = raft.Nonvoter
		}
		c.Servers = append(c.Servers, raft.Server{ID: m.raftID(), Address: m.address(), Suffrage: suffrage})
	}
	return c
}

// ConfigText renders a Raft configuration as ZooKeeper's /zookeeper/config
// data: one server.N line per member, sorted by id, then version=<hex index>.
// It reads nothing but its arguments, so every replica renders the same bytes.
// A configuration herd did not write (a standalone node's) renders as nil.
func ConfigText(c raft.Configuration, index uint64) []byte {
	ms, err := membersFromRaft(c)
	if err != nil || len(ms) == 0 {
		return nil
	}
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Line())
		b.WriteByte('\n')
	}
	b.WriteString("version=" + strconv.FormatUint(index, 16))
	return []byte(b.String())
}

// diffMembers names the first line on which two member lists disagree, as
// the zoo.cfg key and both values; "" when they agree. where names the other
// list ("in the cluster", "at server.2").
func diffMembers(mine, theirs []Member, where string) string {
	a, b := map[int]Member{}, map[int]Member{}
	ids := map[int]bool{}
	for _, m := range mine {
		a[m.ID], ids[m.ID] = m, true
	}
	for _, m := range theirs {
		b[m.ID], ids[m.ID] = m, true
	}
	sorted := make([]int, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Ints(sorted)
	for _, id := range sorted {
		x, inA := a[id]
		y, inB := b[id]
		switch {
		case !inA:
			return fmt.Sprintf("server.%d is %q %s but missing here", id, y.Server.String(), where)
		case !inB:
			return fmt.Sprintf("server.%d is %q here but missing %s", id, x.Server.String(), where)
		case x.Server != y.Server:
			return fmt.Sprintf("server.%d is %q here but %q %s", id, x.Server.String(), y.Server.String(), where)
		}
	}
	return ""
}
