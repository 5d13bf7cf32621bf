//go:build unix

package fourlw

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// osVersion is the kernel release, Java's os.version.
func osVersion() string {
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return "<NA>"
}

// memory reports the Go heap in MB under Java's os.memory.* keys: free is
// heap held but unused, max the Go memory limit (GOMEMLIMIT; <NA> when
// none is set, ZooKeeper's mark for a value it lacks), total is memory
// obtained from the OS.
func memory() []KV {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mb := func(n uint64) string { return strconv.FormatUint(n/(1024*1024), 10) + "MB" }
	return []KV{
		{Key: "os.memory.free", Value: mb(m.HeapIdle - m.HeapReleased)},
		{Key: "os.memory.max", Value: memLimit(mb)},
		{Key: "os.memory.total", Value: mb(m.Sys)},
	}
}

// ProcessFileDescriptors returns this process's open descriptor count and
// limit, for ServerStats' mntr fields; (0, 0) when unknown.
func ProcessFileDescriptors() (open, max int64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, 0
	}
	return int64(len(ents)), int64(lim.Cur)
}

func memLimit(mb func(uint64) string) string {
	if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
		return mb(uint64(l))
	}
	return "<NA>"
}
