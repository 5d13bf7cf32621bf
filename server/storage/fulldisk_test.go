package storage

import (
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// diskFull fails the chosen file operations with ENOSPC while it is on.
type diskFull struct {
	on  atomic.Bool
	ops map[Fault]bool
	hit atomic.Int64
}

func (d *diskFull) fail(op Fault, _ string) error {
	if d.on.Load() && d.ops[op] {
		d.hit.Add(1)
		return syscall.ENOSPC
	}
	return nil
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFullDiskWritesResume fills the "disk" at each place a write can fail:
// a write waits (raft sees a slow disk, not a failure), Health says why, and
// once space is back the write completes by itself and nothing acknowledged
// is lost, then or after a restart.
func TestFullDiskWritesResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []Fault
	}{
		{"segment write", []Fault{FaultWrite}},
		{"fsync", []Fault{FaultSync}},
		{"segment rotation with no reserve", []Fault{FaultCreate}},
		{"everything", []Fault{FaultCreate, FaultWrite, FaultSync}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			df := &diskFull{ops: map[Fault]bool{}}
			for _, op := range tc.ops {
				df.ops[op] = true
			}
			s := mustOpen(t, dir, func(o *Options) { o.FailWrite = df.fail })
			write(t, s, 1, 50, batch, size)
			df.on.Store(true)
			// Keep writing until one write blocks (a rotation needs a few).
			done := make(chan error, 1)
			var next atomic.Uint64
			next.Store(51)
			go func() {
				for {
					i := next.Load()
					var logs []*raft.Log
					for j := uint64(0); j < batch; j++ {
						logs = append(logs, &raft.Log{Index: i + j, Term: 1, Type: raft.LogCommand, Data: payload(i+j, size),
							AppendedAt: time.Unix(1700000000, int64(i+j))})
					}
					if err := s.Log.StoreLogs(logs); err != nil {
						done <- err
						return
					}
					next.Add(batch)
					if df.hit.Load() > 0 && s.Health() == nil {
						done <- nil // recovered
						return
					}
				}
			}()
			waitUntil(t, "a write to fail for want of space", func() bool { return errors.Is(s.Health(), syscall.ENOSPC) })
			if err := s.Health(); !errors.Is(err, ErrCannotWrite) {
				t.Fatalf("health %v", err)
			}
			t.Logf("while full: %v", s.Health())
			select {
			case err := <-done:
				t.Fatalf("write returned while the disk was full: %v", err)
			default:
			}
			df.on.Store(false)
			if err := <-done; err != nil {
				t.Fatalf("write after space came back: %v", err)
			}
			if err := s.Health(); err != nil {
				t.Fatalf("health after recovery: %v", err)
			}
			last := next.Load() - 1
			checkAll(t, s, 1, last, size)
			write(t, s, last+1, batch, batch, size)
			s.Close()
			s = mustOpen(t, dir)
			checkAll(t, s, 1, last+batch, size)
			s.Close()
		})
	}
}

// TestInterruptUnblocksWrite: shutting down while the disk is full must not
// hang on the waiting write.
func TestInterruptUnblocksWrite(t *testing.T) {
	dir := t.TempDir()
	df := &diskFull{ops: map[Fault]bool{FaultWrite: true}}
	s := mustOpen(t, dir, func(o *Options) { o.FailWrite = df.fail })
	write(t, s, 1, 20, batch, size)
	df.on.Store(true)
	done := make(chan error, 1)
	go func() {
		done <- s.Log.StoreLogs([]*raft.Log{{Index: 21, Term: 1, Data: payload(21, size)}})
	}()
	waitUntil(t, "a write to fail", func() bool { return s.Health() != nil })
	s.Interrupt()
	if err := <-done; !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("interrupted write returned %v", err)
	}
	if err := s.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	s = mustOpen(t, dir)
	checkAll(t, s, 1, 20, size)
	s.Close()
}

// TestWriteWhoseFsyncFailedWaitsForAnFsync: an append whose fsync fails has
// reached the file, and a retry reads it back; it must still not count as
// stored (Raft would count it as durable) until an fsync succeeds.
func TestWriteWhoseFsyncFailedWaitsForAnFsync(t *testing.T) {
	dir := t.TempDir()
	df := &diskFull{ops: map[Fault]bool{FaultSync: true}}
	s := mustOpen(t, dir, func(o *Options) { o.FailWrite = df.fail })
	write(t, s, 1, 20, batch, size)
	df.on.Store(true)
	done := make(chan error, 1)
	go func() {
		done <- s.Log.StoreLogs([]*raft.Log{{Index: 21, Term: 1, Data: payload(21, size)}})
	}()
	waitUntil(t, "the write's fsync to fail and be retried", func() bool { return df.hit.Load() >= 3 || len(done) > 0 })
	select {
	case err := <-done:
		t.Fatalf("the write returned (%v) while every fsync failed", err)
	default:
	}
	df.on.Store(false)
	if err := <-done; err != nil {
		t.Fatalf("write once fsyncs pass: %v", err)
	}
	checkAll(t, s, 1, 21, size)
	s.Close()
}
