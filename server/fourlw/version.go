package fourlw

import (
	"runtime/debug"
	"time"
)

// Version is the ZooKeeper release whose client protocol and 4lw formats herd follows.
const Version = "3.8.4"

// BuildID stands where ZooKeeper prints its git commit.
const BuildID = "herd"

// buildTimeLayout is the MM/DD/YYYY HH:MM GMT form that go-zookeeper/zk's
// FLWSrvr parses (ZooKeeper 3.8 prints yyyy-MM-dd, which it cannot).
const buildTimeLayout = "01/02/2006 15:04 GMT"

// BuildTime is the "built on" date: the commit time stamped by the Go
// toolchain, or a fixed date for builds without VCS information.
var BuildTime = buildTime()

// FullVersion returns the version as srvr, mntr and envi print it, e.g.
// "3.8.4-herd, built on 11/25/2026 17:00 GMT".
func FullVersion() string { return Version + "-" + BuildID + ", built on " + BuildTime }

func buildTime() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key != "vcs.time" {
				continue
			}
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				return t.UTC().Format(buildTimeLayout)
			}
		}
	}
	return "01/01/2026 00:00 GMT"
}
