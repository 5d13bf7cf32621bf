package main

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/herd-io/herd/server/zoocfg"
)

// listenTLS opens zoo.cfg's secureClientPort. The TLS port serves the same
// server as the plain one, as ZooKeeper's does.
func listenTLS(zc *zoocfg.Config, tc *tls.Config) (net.Listener, error) {
	l, err := net.Listen("tcp", zc.SecureAddr())
	if err != nil {
		return nil, fmt.Errorf("secureClientPort: listen on %s: %w", zc.SecureAddr(), err)
	}
	return tls.NewListener(l, tc), nil
}
