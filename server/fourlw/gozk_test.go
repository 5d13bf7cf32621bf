package fourlw

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// serve answers four-letter words on a loopback listener the way the server
// will: read four bytes, write Run's text, close. It stops at test end.
func serve(t *testing.T, src Source, wl Whitelist) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4)
			if _, err := ioReadFull(c, buf); err == nil {
				if cmd, ok := Lookup(buf); ok {
					_, _ = c.Write([]byte(Run(cmd, wl, src)))
				}
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func ioReadFull(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestGoZookeeperParsesSrvr(t *testing.T) {
	f := newFake()
	addr := serve(t, f, ParseWhitelist(nil))
	stats, ok := zk.FLWSrvr([]string{addr}, 5*time.Second)
	if !ok || len(stats) != 1 || stats[0].Error != nil {
		t.Fatalf("FLWSrvr = %v ok=%v (%+v)", stats, ok, stats)
	}
	s := stats[0]
	if s.Mode != zk.ModeStandalone || s.NodeCount != 7 || s.Received != 12 || s.Sent != 11 ||
		s.Connections != 2 || s.MaxLatency != 8 || s.AvgLatency != 1.8182 || s.Counter != 5 ||
		s.Version != Version+"-"+BuildID || s.BuildTime.IsZero() {
		t.Errorf("FLWSrvr parsed %+v", s)
	}
}

func TestGoZookeeperParsesRuokAndCons(t *testing.T) {
	f := newFake()
	f.conns = f.conns[:1] // go-zk's regexp only matches connections with a session
	addr := serve(t, f, ParseWhitelist([]string{"ruok,cons"}))
	if oks := zk.FLWRuok([]string{addr}, 5*time.Second); len(oks) != 1 || !oks[0] {
		t.Errorf("FLWRuok = %v", oks)
	}
	clients, ok := zk.FLWCons([]string{addr}, 5*time.Second)
	if !ok || len(clients) != 1 || clients[0].Error != nil || len(clients[0].Clients) != 1 {
		t.Fatalf("FLWCons = %v ok=%v", clients, ok)
	}
	c := clients[0].Clients[0]
	if c.SessionID != 0x10000068d8f0000 || c.LastOperation != "EXIS" || c.Timeout != 10000 || c.Lcxid != 6 ||
		c.Lzxid != 4 || c.Received != 7 || c.MaxLatency != 8 || c.Addr != "127.0.0.1:52306" {
		t.Errorf("FLWCons parsed %+v", c)
	}
}

func TestGoZookeeperSeesWhitelistRefusal(t *testing.T) {
	addr := serve(t, newFake(), ParseWhitelist(nil))
	if oks := zk.FLWRuok([]string{addr}, 5*time.Second); len(oks) != 1 || oks[0] {
		t.Errorf("FLWRuok on a refused ruok = %v", oks)
	}
}
