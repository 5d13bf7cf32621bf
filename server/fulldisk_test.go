package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/storage"
)

// TestFullDisk fills the log's disk (every segment create, write and fsync
// fails with ENOSPC) under a client writing: writes wait instead of failing,
// reads are served, ruok stops answering imok, no election is held; once
// space is back the waiting write completes by itself and every acknowledged
// write is there, also after a restart.
func TestFullDisk(t *testing.T) {
	var full atomic.Bool
	faults := func(storage.Fault, string) error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) {
		c.LogSegmentSize = 64 << 10
		server.SetStorageFaults(c, faults)
	}))
	c := dial(t, s.Addr, wireclient.Options{SessionTimeout: 4 * time.Second})
	for i := 0; i < 50; i++ {
		create(t, c, fmt.Sprintf("/n%d", i), "v", proto.ModePersistent)
	}
	term := s.Server().RaftTerm()
	if got := fourLetter(t, s.Addr, "ruok"); got != "imok" {
		t.Fatalf("ruok %q before", got)
	}

	w := dial(t, s.Addr, wireclient.Options{SessionTimeout: 4 * time.Second})
	full.Store(true)
	done := make(chan error, 1)
	go func() {
		req := &proto.CreateRequest{Path: "/during", Data: []byte("d"), ACL: proto.OpenACLUnsafe}
		_, err := w.Do(testCtx(t), proto.OpCreate, req, &proto.CreateResponse{})
		done <- err
	}()
	waitFor(t, "the node to notice it cannot write", func() bool { return s.Server().Health() != nil })
	if err := s.Server().Health(); !errors.Is(err, storage.ErrCannotWrite) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("health %v", err)
	}
	if got := fourLetter(t, s.Addr, "ruok"); got != "" {
		t.Fatalf("ruok %q while the disk is full", got)
	}
	if d, _ := getData(t, c, "/n7", false); d != "v" {
		t.Fatalf("read while full: %q", d)
	}
	select {
	case err := <-done:
		t.Fatalf("write returned while the disk was full: %v", err)
	default:
	}

	freed := time.Now()
	full.Store(false)
	if err := <-done; err != nil {
		t.Fatalf("the waiting write: %v", err)
	}
	t.Logf("the waiting write completed %v after space came back", time.Since(freed).Round(time.Millisecond))
	if got := s.Server().RaftTerm(); got != term {
		t.Fatalf("raft term %s -> %s: elections were held", term, got)
	}
	waitFor(t, "ruok imok again", func() bool { return fourLetter(t, s.Addr, "ruok") == "imok" })
	create(t, c, "/after", "a", proto.ModePersistent)
	c.Drop()
	w.Drop()
	s.Restart()
	c = dial(t, s.Addr, wireclient.Options{})
	for _, p := range []string{"/n0", "/n49", "/during", "/after"} {
		if !exists(t, c, p, false) {
			t.Fatalf("%s lost", p)
		}
	}
}

// TestShutdownWhileDiskFull: a graceful stop while a write waits for disk
// space ends that write and returns, instead of waiting for the connection
// the full disk holds up until the stop's deadline.
func TestShutdownWhileDiskFull(t *testing.T) {
	var full atomic.Bool
	faults := func(storage.Fault, string) error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) {
		c.LogSegmentSize = 64 << 10
		server.SetStorageFaults(c, faults)
	}))
	w := dial(t, s.Addr, wireclient.Options{SessionTimeout: 4 * time.Second})
	full.Store(true)
	done := make(chan error, 1)
	go func() {
		req := &proto.CreateRequest{Path: "/during", Data: []byte("d"), ACL: proto.OpenACLUnsafe}
		_, err := w.Do(testCtx(t), proto.OpCreate, req, &proto.CreateResponse{})
		done <- err
	}()
	waitFor(t, "the node to notice it cannot write", func() bool { return s.Server().Health() != nil })

	// The deadline is far beyond what a stop needs; reaching it means the
	// stop waited on the stalled write.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Server().Shutdown(ctx); err != nil {
		t.Fatalf("shutdown while the disk is full: %v", err)
	}
	if err := <-done; err == nil {
		t.Fatal("the stalled write was acknowledged by a node that stopped before it could write")
	}
	w.Drop()
}

// TestShutdownWhenDiskFillsDuringStop: a graceful stop waiting for a write
// in flight returns once the disk fills under that write, rather than
// waiting for a connection only the node's shutdown can end.
func TestShutdownWhenDiskFillsDuringStop(t *testing.T) {
	var full, hold atomic.Bool
	held := make(chan struct{})
	release := make(chan struct{})
	faults := func(op storage.Fault, _ string) error {
		if op == storage.FaultWrite && hold.CompareAndSwap(true, false) {
			close(held)
			<-release
		}
		if full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}
	s := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) {
		c.LogSegmentSize = 64 << 10
		server.SetStorageFaults(c, faults)
	}))
	w := dial(t, s.Addr, wireclient.Options{SessionTimeout: 4 * time.Second})
	hold.Store(true)
	done := make(chan error, 1)
	go func() {
		req := &proto.CreateRequest{Path: "/in-flight", Data: []byte("d"), ACL: proto.OpenACLUnsafe}
		_, err := w.Do(testCtx(t), proto.OpCreate, req, &proto.CreateResponse{})
		done <- err
	}()
	<-held // the write has reached the disk, and waits there

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- s.Server().Shutdown(ctx) }()
	// The stop closes the client's connection before it waits for it.
	if err := <-done; err == nil {
		t.Fatal("the in-flight write was answered although its fsync never finished")
	}
	full.Store(true)
	close(release) // that write, and every retry, now finds the disk full
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown once the disk filled: %v (it waited for the stalled write)", err)
	}
	w.Drop()
}
