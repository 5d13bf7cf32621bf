package zoocfg

import (
	"fmt"
	"net"
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
	peerPart, clientPart, hasClient := strings.Cut(value, ";")
	if strings.Contains(clientPart, ";") {
		return fmt.Errorf("%w: %q has more than one ';'", ErrInvalid, value)
	}
	parts, err := hostAndPorts(peerPart)
	if err != nil {
		return err
	}
	if len(parts) < 3 || len(parts) > 4 {
		return fmt.Errorf("%w: want host:peerPort:electionPort[:role], got %q", ErrInvalid, value)
	}
	s := Server{Host: parts[0], Role: RoleParticipant}
	if s.Host == "" {
		return fmt.Errorf("%w: empty host in %q", ErrInvalid, value)
	}
	if s.PeerPort, err = port(parts[1], false); err != nil {
		return err
	}
	if s.ElectionPort, err = port(parts[2], false); err != nil {
		return err
	}
	if s.PeerPort == s.ElectionPort {
		return fmt.Errorf("%w: peer and election port must be different", ErrInvalid)
	}
	if len(parts) == 4 {
		switch r := strings.ToLower(parts[3]); r {
		case RoleParticipant, RoleObserver:
			s.Role = r
		default:
			return fmt.Errorf("%w: unknown role %q", ErrInvalid, parts[3])
		}
	}
	if hasClient {
		if s.ClientAddr, err = clientAddr(clientPart); err != nil {
			return err
		}
	}
	c.Servers[id] = s
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
