// Package freeport picks loopback TCP ports for programs that must write a
// port into a file (a zoo.cfg's server.N lines, say) before the process that
// binds it starts, so cannot listen on 127.0.0.1:0 themselves.
package freeport

import (
	"fmt"
	"net"
	"sync"
)

var (
	mu     sync.Mutex
	issued = map[int]bool{}
)

// Pick returns a port nothing listens on now and that Pick has not returned
// before in this process. A port asked of the kernel and closed at once may
// be handed out again by the very next request; remembering what was issued
// keeps two members of one cluster from being given the same port.
//
// Another process may still bind the port before the caller does; callers
// that start servers on it should retry on fresh ports when a bind fails.
func Pick() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !issued[port] {
			issued[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("freeport: 100 ports in a row had already been issued")
}
