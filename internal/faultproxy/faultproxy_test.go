package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer echoes lines and reports each line it received on got.
func echoServer(t *testing.T) (addr string, got <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					ch <- line
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), ch
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := r.ReadString('\n')
	if err != nil || line != msg {
		t.Fatalf("echo = %q, %v; want %q", line, err, msg)
	}
}

// silent checks that nothing arrives on r for a short while.
func silent(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := r.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read during blackhole: %v, want a timeout", err)
	}
}

func TestProxy(t *testing.T) {
	addr, got := echoServer(t)
	p, err := New(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, r := dial(t, p)
	roundTrip(t, c, r, "one\n")
	<-got
	if p.Conns() != 1 {
		t.Fatalf("conns = %d", p.Conns())
	}

	// Blackhole: nothing flows either way; lifting it delivers the held bytes.
	p.Blackhole(true)
	if _, err := c.Write([]byte("two\n")); err != nil {
		t.Fatal(err)
	}
	silent(t, c, r)
	select {
	case l := <-got:
		t.Fatalf("server got %q through a blackhole", l)
	default:
	}
	p.Blackhole(false)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || line != "two\n" {
		t.Fatalf("after blackhole: %q, %v", line, err)
	}
	<-got

	// HoldReplies: the server receives, the client does not hear back.
	p.HoldReplies(true)
	if _, err := c.Write([]byte("three\n")); err != nil {
		t.Fatal(err)
	}
	if l := <-got; l != "three\n" {
		t.Fatalf("server got %q", l)
	}
	silent(t, c, r)

	// Cut drops the connection and the held reply.
	p.Cut()
	p.HoldReplies(false)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("read after Cut succeeded")
	}

	// Refuse closes new connections at once; turning it off serves again.
	p.Refuse(true)
	c2, r2 := dial(t, p)
	_ = c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r2.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Fatalf("refused connection read: %v, want EOF", err)
	}
	p.Refuse(false)
	c3, r3 := dial(t, p)
	roundTrip(t, c3, r3, "four\n")
	if p.Accepted() != 3 {
		t.Fatalf("accepted = %d, want 3", p.Accepted())
	}
}
