// Package loadgen drives a ZooKeeper-protocol server (herd or Apache
// ZooKeeper) with a fixed workload through go-zookeeper/zk and measures
// throughput and latency. It backs `herd bench` and the server benchmarks.
package loadgen

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrConfig is wrapped by every error about an invalid Config.
var ErrConfig = errors.New("loadgen: invalid config")

// Workload names what each operation does.
type Workload string

// The workloads. Most operations are one request; the comments name the
// ones that are a cycle of several.
const (
	WorkloadCreate  Workload = "create"  // create a new persistent znode
	WorkloadSetData Workload = "setData" // set data on the goroutine's own znode
	WorkloadGetData Workload = "getData" // read the goroutine's own znode
	WorkloadMixed   Workload = "mixed"   // 9 getData then 1 setData, repeating
	WorkloadLock    Workload = "lock"    // zk.Lock Lock+Unlock on a shared path
	WorkloadExists  Workload = "exists"  // exists on the goroutine's own znode
	// WorkloadGetChildren lists one shared parent of Config.Children znodes.
	WorkloadGetChildren Workload = "getChildren"
	// WorkloadEphemeral creates an ephemeral znode and deletes it (2 requests).
	WorkloadEphemeral Workload = "ephemeral"
	// WorkloadWatch sets the goroutine's own znode and waits until each of its
	// Config.Watchers data watches (spread over the run's sessions) has fired
	// and been set again: one change fanned out to N watchers.
	WorkloadWatch Workload = "watch"
	// WorkloadSession opens a new session, waits for it and closes it.
	WorkloadSession Workload = "session"
	// WorkloadRecipeLock is a Lock+Unlock cycle of recipes.NewLock with every
	// goroutine contending for one path.
	WorkloadRecipeLock Workload = "recipeLock"
	// WorkloadRecipeLockMany is a Lock+Unlock cycle of recipes.NewLock on the
	// goroutine's own path (no contention: the cost of the recipe itself).
	WorkloadRecipeLockMany Workload = "recipeLockMany"
	// WorkloadQueue puts an item on one shared recipes.NewQueue and takes one.
	WorkloadQueue Workload = "queue"
)

// Workloads lists every workload, for help texts.
var Workloads = []Workload{WorkloadCreate, WorkloadSetData, WorkloadGetData, WorkloadMixed, WorkloadLock,
	WorkloadExists, WorkloadGetChildren, WorkloadEphemeral, WorkloadWatch, WorkloadSession,
	WorkloadRecipeLock, WorkloadRecipeLockMany, WorkloadQueue}

// ParseWorkload accepts a workload name, ignoring case.
func ParseWorkload(s string) (Workload, error) {
	for _, w := range Workloads {
		if strings.EqualFold(s, string(w)) {
			return w, nil
		}
	}
	return "", fmt.Errorf("%w: unknown workload %q", ErrConfig, s)
}

// Defaults applied by Run to zero fields.
const (
	DefaultKeyPrefix      = "/loadgen"
	DefaultSessionTimeout = 10 * time.Second
	DefaultChildren       = 1000 // WorkloadGetChildren's parent size
	DefaultWatchers       = 100  // WorkloadWatch's watchers per goroutine
)

// Config describes one run.
type Config struct {
	// Servers are host:port addresses; every connection gets the whole list.
	Servers  []string
	Workload Workload
	// Conns is the number of sessions (default 1); Goroutines the number of
	// workers sharing each session (default 1).
	Conns      int
	Goroutines int
	// Duration ends the run after this long; Ops ends it after this many
	// operations in total. At least one must be set; the first reached wins.
	Duration time.Duration
	Ops      int
	// ValueSize is the byte length of the data written.
	ValueSize int
	// KeyPrefix is the parent path for the run's znodes (default /loadgen).
	// Each run works under its own child of it and deletes it afterwards.
	KeyPrefix string
	// SessionTimeout requested for each session (default 10s).
	SessionTimeout time.Duration
	// Children is the number of znodes under WorkloadGetChildren's parent
	// (default DefaultChildren).
	Children int
	// Watchers is the number of watches each WorkloadWatch goroutine's
	// change fires (default DefaultWatchers).
	Watchers int
	// Progress, when set, is called every ProgressInterval (default 1s)
	// while the workers run, from one goroutine, and never after Run returns.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// Measure, when set, is called with true just before the workers start
	// and with false as soon as they are done, so a caller can sample
	// server figures (CPU time) over the measured phase only.
	Measure func(start bool)
}

// Progress is a running total, reported while a run is under way.
type Progress struct {
	// Elapsed is the time since the workers started.
	Elapsed time.Duration
	// Ops and Errors count operations so far, as in Result.
	Ops, Errors int64
	// Rate is successful operations per second since the previous report.
	Rate float64
}

func (c Config) withDefaults() (Config, error) {
	if c.Conns == 0 {
		c.Conns = 1
	}
	if c.Goroutines == 0 {
		c.Goroutines = 1
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.Children == 0 {
		c.Children = DefaultChildren
	}
	if c.Watchers == 0 {
		c.Watchers = DefaultWatchers
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = time.Second
	}
	switch {
	case len(c.Servers) == 0:
		return c, fmt.Errorf("%w: no servers", ErrConfig)
	case c.Conns < 0 || c.Goroutines < 0 || c.Ops < 0 || c.Duration < 0 || c.ValueSize < 0 ||
		c.Children < 0 || c.Watchers < 0:
		return c, fmt.Errorf("%w: negative conns, goroutines, ops, duration, value size, children or watchers", ErrConfig)
	case c.Duration == 0 && c.Ops == 0:
		return c, fmt.Errorf("%w: set Duration or Ops, or the run never ends", ErrConfig)
	case !strings.HasPrefix(c.KeyPrefix, "/") || strings.HasSuffix(c.KeyPrefix, "/") || strings.Contains(c.KeyPrefix, "//"):
		return c, fmt.Errorf("%w: key prefix %q is not an absolute znode path", ErrConfig, c.KeyPrefix)
	}
	if _, err := ParseWorkload(string(c.Workload)); err != nil {
		return c, err
	}
	return c, nil
}
