//go:build interop

package integration

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/herd-io/herd/internal/zkpeer"
)

// kazooPython is Debian's interpreter, which has python3-kazoo; a python3 on
// PATH (e.g. a virtualenv) may not.
const kazooPython = "/usr/bin/python3"

// kazooModule is installed by Debian's python3-kazoo.
const kazooModule = "/usr/lib/python3/dist-packages/kazoo/client.py"

var kazooScenarios = []string{"crud", "errors", "sequential", "data_watch", "children_watch",
	"transactions", "ephemerals", "ruok", "lock"}

// TestKazooInterop runs peers/kazoo_driver.py against every target.
func TestKazooInterop(t *testing.T) {
	zkpeer.Require(t, kazooPython, kazooModule)
	script := filepath.Join(peersDir(t), "kazoo_driver.py")
	for _, tg := range targets(t, TargetOptions{}) {
		t.Run(tg.Name, func(t *testing.T) {
			cmd := exec.CommandContext(driverContext(t), kazooPython, script, tg.Addr)
			runDriver(t, cmd, kazooScenarios)
		})
	}
}
