//go:build interop

package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herd-io/herd/internal/zkpeer"
)

// curatorJars is the driver's classpath (the ZooKeeper client uses NIO, not
// netty, so no netty jar is needed).
var curatorJars = []string{
	"/usr/share/java/curator-recipes.jar",
	"/usr/share/java/curator-framework.jar",
	"/usr/share/java/curator-client.jar",
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/guava.jar",
	"/usr/share/java/slf4j-api.jar",
}

var curatorScenarios = []string{"crud", "errors", "transaction", "mutex", "leaderLatch", "barrier",
	"doubleBarrier", "queue", "cache", "persistentWatcher", "ephemerals"}

// jvmQuick trims JVM start-up and JIT work: the drivers run for seconds.
var jvmQuick = []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"}

// TestCuratorInterop compiles peers/CuratorDriver.java and runs it against every target.
func TestCuratorInterop(t *testing.T) {
	zkpeer.Require(t, append([]string{"/usr/bin/javac", "/usr/bin/java"}, curatorJars...)...)
	cp := strings.Join(curatorJars, ":")
	classes := t.TempDir()
	javac := []string{"-d", classes, "-cp", cp, "-nowarn"}
	for _, f := range jvmQuick {
		javac = append(javac, "-J"+f)
	}
	javac = append(javac, filepath.Join(peersDir(t), "CuratorDriver.java"))
	if out, err := exec.CommandContext(driverContext(t), "javac", javac...).CombinedOutput(); err != nil {
		t.Fatalf("javac CuratorDriver.java: %v\n%s", err, out)
	}
	for _, tg := range targets(t, TargetOptions{}) {
		t.Run(tg.Name, func(t *testing.T) {
			args := append(append([]string{}, jvmQuick...), "-cp", classes+":"+cp, "CuratorDriver", tg.Addr)
			runDriver(t, exec.CommandContext(driverContext(t), "java", args...), curatorScenarios)
		})
	}
}
