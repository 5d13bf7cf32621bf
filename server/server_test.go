package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"

	"github.com/herd-io/herd/herdtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}

func connect(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go func() {
					for range events {
					}
				}()
				t.Cleanup(c.Close)
				return c
			}
		case <-deadline:
			t.Fatal("no session")
		}
	}
}

func TestCRUDAndWatchesWithGoZK(t *testing.T) {
	s := herdtest.Start(t)
	c := connect(t, s.Addr)
	if _, err := c.Create("/a", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/a", nil, 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("second create: %v", err)
	}
	data, st, ch, err := c.GetW("/a")
	if err != nil || string(data) != "x" || st.Version != 0 {
		t.Fatalf("get: %q %+v %v", data, st, err)
	}
	other := connect(t, s.Addr)
	if _, err := other.Set("/a", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		if ev.Type != zk.EventNodeDataChanged || ev.Path != "/a" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}
	p, err := c.Create("/a/s-", nil, zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil || p != "/a/s-0000000000" {
		t.Fatalf("seq create %q %v", p, err)
	}
	kids, _, err := other.Children("/")
	if err != nil || len(kids) != 2 {
		t.Fatalf("children %v %v", kids, err)
	}
	c.Close()
	ok, _, err := other.Exists(p)
	if err != nil || ok {
		t.Fatalf("ephemeral survived close: %v %v", ok, err)
	}
}

func TestRestartKeepsDataAndSessions(t *testing.T) {
	s := herdtest.Start(t)
	c := connect(t, s.Addr)
	if _, err := c.Create("/keep", []byte("1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	before := s.Server().LastZxid()
	s.Restart()
	if got := s.Server().LastZxid(); got < before {
		t.Fatalf("zxid went back: %d < %d", got, before)
	}
	// go-zk reconnects to the same address with its session id and password.
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, _, err := c.Get("/keep")
		if err == nil {
			if string(data) != "1" {
				t.Fatalf("data %q", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect: %v", err)
		}
	}
	if ok, _, err := c.Exists("/eph"); err != nil || !ok {
		t.Fatalf("ephemeral lost across restart: %v %v", ok, err)
	}
}
