package zoocfg

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// setServer parses server.N=host:peer:election[:role][;[clientHost:]clientPort]
// as ZooKeeper 3.8's QuorumServer does (one address; multi-address is off by default).
func (c *Config) setServer(key, value string) error {
	id, err := strconv.Atoi(strings.TrimPrefix(key, "server."))
	if err != nil || id < 0 {
		return fmt.Errorf("%w: server id must be a non-negative integer", ErrInvalid)
	}
	if _, dup := c.Servers[id]; dup {
		return fmt.Errorf("%w: server.%d is given twice", ErrInvalid, id)
	}
	s, err := ParseServer(value)
	if err != nil {
		return err
	}
	c.Servers[id] = s
	return nil
}

// ParseServer parses the value of a server.N line:
// host:peerPort:electionPort[:participant|:observer][;[clientHost:]clientPort].
func ParseServer(value string) (Server, error) {
	peerPart, clientPart, hasClient := strings.Cut(value, ";")
	if strings.Contains(clientPart, ";") {
		return Server{}, fmt.Errorf("%w: %q has more than one ';'", ErrInvalid, value)
	}
	parts, err := hostAndPorts(peerPart)
	if err != nil {
		return Server{}, err
	}
	if len(parts) < 3 || len(parts) > 4 {
		return Server{}, fmt.Errorf("%w: want host:peerPort:electionPort[:role], got %q", ErrInvalid, value)
	}
	s := Server{Host: parts[0], Role: RoleParticipant}
	if s.Host == "" {
		return Server{}, fmt.Errorf("%w: empty host in %q", ErrInvalid, value)
	}
	if s.PeerPort, err = port(parts[1], false); err != nil {
		return Server{}, err
	}
	if s.ElectionPort, err = port(parts[2], false); err != nil {
		return Server{}, err
	}
	if s.PeerPort == s.ElectionPort {
		return Server{}, fmt.Errorf("%w: peer and election port must be different", ErrInvalid)
	}
	if len(parts) == 4 {
		switch r := strings.ToLower(parts[3]); r {
		case RoleParticipant, RoleObserver:
			s.Role = r
		default:
			return Server{}, fmt.Errorf("%w: unknown role %q", ErrInvalid, parts[3])
		}
	}
	if hasClient {
		if s.ClientAddr, err = clientAddr(clientPart); err != nil {
			return Server{}, err
		}
	}
	return s, nil
}

// String formats s as the value of its server.N line, the way ZooKeeper
// writes /zookeeper/config: host:peer:election:role, then ;client if known.
func (s Server) String() string {
	host := s.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	role := s.Role
	if role == "" {
		role = RoleParticipant
	}
	out := host + ":" + strconv.Itoa(s.PeerPort) + ":" + strconv.Itoa(s.ElectionPort) + ":" + role
	if s.ClientAddr != "" {
		out += ";" + s.ClientAddr
	}
	return out
}

// checkServers refuses an ensemble herd cannot run as written: two members
// (or one member's peer, election and client ports) on one address.
func (c *Config) checkServers() error {
	ids := make([]int, 0, len(c.Servers))
	for id := range c.Servers {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	owner := map[string]string{}
	claim := func(addr, what string) error {
		if prev, ok := owner[addr]; ok {
			return fmt.Errorf("zoocfg: %w: %s uses %s, which %s already uses", ErrInvalid, what, addr, prev)
		}
		owner[addr] = what
		return nil
	}
	for _, id := range ids {
		s := c.Servers[id]
		key := "server." + strconv.Itoa(id)
		if err := claim(s.PeerAddr(), key+" (peer port)"); err != nil {
			return err
		}
		if err := claim(s.ElectionAddr(), key+" (election port)"); err != nil {
			return err
		}
		if s.ClientAddr != "" {
			if err := claim(s.ClientAddr, key+" (client port)"); err != nil {
				return err
			}
		}
	}
	return nil
}

// clientAddr parses "[host:]port"; a bare port listens on 0.0.0.0.
func clientAddr(v string) (string, error) {
	parts, err := hostAndPorts(v)
	if err != nil {
		return "", err
	}
	host := "0.0.0.0"
	switch len(parts) {
	case 1:
	case 2:
		host = parts[0]
	default:
		return "", fmt.Errorf("%w: want [host:]port after ';', got %q", ErrInvalid, v)
	}
	p, err := port(parts[len(parts)-1], false)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}

// hostAndPorts splits "host:a:b" where host may be a bracketed IPv6 literal.
func hostAndPorts(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") {
		end := strings.Index(v, "]")
		if end < 0 {
			return nil, fmt.Errorf("%w: unclosed '[' in %q", ErrInvalid, v)
		}
		host, rest := v[1:end], v[end+1:]
		if rest == "" {
			return []string{host}, nil
		}
		if rest[0] != ':' {
			return nil, fmt.Errorf("%w: expected ':' after ']' in %q", ErrInvalid, v)
		}
		return append([]string{host}, strings.Split(rest[1:], ":")...), nil
	}
	return strings.Split(v, ":"), nil
}
