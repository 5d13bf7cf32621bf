package recipetest

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
)

// Requests counts the requests a client sends, by ZooKeeper operation name
// ("create", "getChildren2", ...), leaving out pings and the handshake: what
// tests use to pin down how many round trips a recipe step costs.
type Requests struct {
	mu     sync.Mutex
	counts map[string]int
}

// opNames names the opcodes recipes send (the rest are counted by number).
var opNames = map[int32]string{
	1: "create", 2: "delete", 3: "exists", 4: "getData", 5: "setData", 6: "getACL", 7: "setACL",
	8: "getChildren", 9: "sync", 12: "getChildren2", 13: "check", 14: "multi", 15: "create2",
	19: "createContainer", 21: "createTTL", 101: "setWatches", 105: "setWatches2",
}

// opPing is the heartbeat, which Requests leaves out.
const opPing = 11

// Counts returns a copy of the counts so far.
func (r *Requests) Counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.counts)
}

// Reset forgets the counts so far.
func (r *Requests) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = map[string]int{}
}

func (r *Requests) add(op int32) {
	name, ok := opNames[op]
	if !ok {
		name = fmt.Sprint(op)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[name]++
}

// CountingClient is Client with every request it sends counted.
func CountingClient(t testing.TB, addr string, opts ...framework.Option) (*framework.Client, *Requests) {
	t.Helper()
	r := &Requests{counts: map[string]int{}}
	dial := func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout(network, address, timeout)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, r: r}, nil
	}
	return Client(t, addr, append([]framework.Option{framework.WithDialer(dial)}, opts...)...), r
}

// countingConn reads the frames the client writes: a 4-byte length, then
// (after the connect request, which has no header) xid and opcode.
type countingConn struct {
	net.Conn
	r         *Requests
	buf       []byte
	handshake bool // the connect request has been seen
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for len(c.buf) >= 4 {
		n := int(binary.BigEndian.Uint32(c.buf))
		if len(c.buf) < 4+n {
			break
		}
		frame := c.buf[4 : 4+n]
		switch {
		case !c.handshake:
			c.handshake = true
		case len(frame) >= 8:
			if op := int32(binary.BigEndian.Uint32(frame[4:])); op != opPing {
				c.r.add(op)
			}
		}
		c.buf = c.buf[4+n:]
	}
	return c.Conn.Write(p)
}
