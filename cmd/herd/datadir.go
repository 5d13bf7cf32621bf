package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// defaultDataDir is where herd serve keeps its data without --data-dir: the
// XDG data dir, $XDG_DATA_HOME/herd, else ~/.local/share/herd. (Not a cache
// dir: cleaners delete those.) Older herds used herd/data under the user's
// cache dir; when that exists and the new one does not, it is still used,
// and moveHint says where to move it, so an upgrade never loses a user's
// data.
func defaultDataDir() (dir, moveHint string, err error) {
	base := os.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(base) { // the XDG spec: a relative path is ignored
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", fmt.Errorf("no home directory for the default data dir (give --data-dir): %w", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	dir = filepath.Join(base, "herd")
	if cache, err := os.UserCacheDir(); err == nil {
		legacy := filepath.Join(cache, "herd", "data")
		if isDir(legacy) && !exists(dir) {
			return legacy, dir, nil
		}
	}
	return dir, "", nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, os.ErrNotExist)
}

// pidFileName is the file in a data dir that a running herd holds locked
// (flock), with its pid in it, so that a second herd on the same dir is
// refused at once instead of waiting on the log store's lock.
const pidFileName = "herd.pid"

// errDataDirInUse is what lockDataDir returns (wrapped, with the pid) for a
// data dir another herd holds.
var errDataDirInUse = errors.New("in use by another herd")

// dataDirLock is this process's hold on a data dir.
type dataDirLock struct{ f *os.File }

// lockDataDir takes dir (which must exist) for this process, or says which
// process has it.
func lockDataDir(dir string) (*dataDirLock, error) {
	path := filepath.Join(dir, pidFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("data dir %s is %w, %s (it holds %s locked)", dir, errDataDirInUse, holder(path), path)
		}
		return nil, fmt.Errorf("data dir %s: lock %s: %w", dir, path, err)
	}
	if err := writePid(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir %s: write %s: %w", dir, path, err)
	}
	return &dataDirLock{f: f}, nil
}

func writePid(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

// holder names the process whose pid the pid file holds.
func holder(path string) string {
	b, _ := os.ReadFile(path)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		return "pid " + strconv.Itoa(pid)
	}
	return "pid unknown" // it is between taking the lock and writing its pid
}

// release empties the pid file (the lock file stays: removing it would let
// a third herd lock a new file while a second holds the old one) and lets
// the data dir go.
func (l *dataDirLock) release() {
	_ = l.f.Truncate(0)
	_ = l.f.Close()
}
