package storage

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/coreos/etcd/pkg/fileutil"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/types"
)

// reserveFile is a segment-sized file kept ready in the log directory, so the
// next segment rotation does not need free space: it renames the reserve.
const reserveFile = "next-segment.reserve"

// Fault names a file operation of the log that FailWrite may fail.
type Fault string

// The operations a FailWrite hook sees.
const (
	FaultCreate Fault = "create" // creating (and preallocating) a segment or the reserve
	FaultWrite  Fault = "write"  // writing to a segment
	FaultSync   Fault = "sync"   // fsyncing a segment
)

// segmentFS is the file system raft-wal writes its segments through. It
// differs from raft-wal's own in three ways: a failed creation leaves no
// half-made file behind (which would make every retry fail), a creation
// takes the reserved file when there is one, and tests can inject faults.
type segmentFS struct {
	inner *fs.FS
	dir   string
	size  int64
	fail  func(op Fault, file string) error
	log   hclog.Logger

	mu        sync.Mutex
	reserveOK bool
	warned    atomic.Bool
	syncs     atomic.Uint64 // segment fsyncs (Store.LogCounters)
}

var _ types.VFS = (*segmentFS)(nil)

func newSegmentFS(dir string, size int, fail func(Fault, string) error, log hclog.Logger) *segmentFS {
	return &segmentFS{inner: fs.New(), dir: dir, size: int64(size), fail: fail, log: log}
}

func (s *segmentFS) check(op Fault, name string) error {
	if s.fail == nil {
		return nil
	}
	return s.fail(op, name)
}

func (s *segmentFS) ListDir(dir string) ([]string, error) { return s.inner.ListDir(dir) }
func (s *segmentFS) Delete(dir, name string) error        { return s.inner.Delete(dir, name) }
func (s *segmentFS) OpenReader(dir, name string) (types.ReadableFile, error) {
	return s.inner.OpenReader(dir, name)
}

func (s *segmentFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	return &segmentFile{File: f, fs: s, name: name, synced: true}, nil
}

// Create makes a new segment file of size bytes, taking the reserve if it
// has that size.
func (s *segmentFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	if err := s.check(FaultCreate, name); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	s.mu.Lock()
	useReserve := s.reserveOK && int64(size) == s.size
	s.reserveOK = false
	s.mu.Unlock()
	if useReserve {
		if err := os.Rename(filepath.Join(dir, reserveFile), path); err == nil {
			f, err := os.OpenFile(path, os.O_RDWR, 0o644)
			if err != nil {
				return nil, err
			}
			s.Reserve()
			return &segmentFile{File: f, fs: s, name: name}, nil
		}
	}
	f, err := createAllocated(path, int64(size))
	if err != nil {
		return nil, err
	}
	s.Reserve()
	return &segmentFile{File: f, fs: s, name: name}, nil
}

// Reserve makes sure the reserve exists; it is best effort (a disk too
// small for it still runs, with rotation needing free space).
func (s *segmentFS) Reserve() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reserveOK || s.size <= 0 {
		return
	}
	path := filepath.Join(s.dir, reserveFile)
	if st, err := os.Stat(path); err == nil && st.Size() == s.size {
		s.reserveOK = true
		return
	}
	_ = os.Remove(path)
	err := s.check(FaultCreate, reserveFile)
	var f *os.File
	if err == nil {
		f, err = createAllocated(path, s.size)
	}
	if err != nil {
		if !s.warned.Swap(true) {
			s.log.Warn("cannot reserve space for the next log segment; rotation will need free space",
				"bytes", s.size, "error", err)
		}
		return
	}
	f.Close()
	s.reserveOK = true
	s.warned.Store(false)
}

// createAllocated creates path with size bytes allocated, or leaves nothing.
func createAllocated(path string, size int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if size > 0 {
		if err := fileutil.Preallocate(f, size, true); err != nil {
			f.Close()
			return nil, errors.Join(err, os.Remove(path))
		}
	}
	return f, nil
}

// segmentFile is a segment open for writing. Like raft-wal's, its first Sync
// also syncs the directory, so a new file's name survives a crash.
type segmentFile struct {
	*os.File
	fs     *segmentFS
	name   string
	synced bool
}

func (f *segmentFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(FaultWrite, f.name); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *segmentFile) Sync() error {
	if err := f.fs.check(FaultSync, f.name); err != nil {
		return err
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.fs.syncs.Add(1)
	if !f.synced {
		if err := syncDir(f.fs.dir); err != nil {
			return err
		}
		f.synced = true
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
