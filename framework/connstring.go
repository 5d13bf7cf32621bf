package framework

import (
	"fmt"
	"strings"
)

// ParseConnectString splits ZooKeeper's connect-string format
// "host:port,host:port/chroot" into the server list and the chroot ("" when
// absent). The chroot is validated as an absolute path without a trailing slash.
func ParseConnectString(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
		if chroot == "/" {
			chroot = ""
		} else if err := validatePath(chroot); err != nil {
			return nil, "", fmt.Errorf("framework: %w: chroot %q: %w", ErrInvalidConnectString, chroot, err)
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		servers = append(servers, h)
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("framework: %w: no servers in %q", ErrInvalidConnectString, s)
	}
	return servers, chroot, nil
}
