//go:build interop

package integration

import (
	"regexp"
	"strings"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
)

// quotaSession exercises zkCli's setquota, listquota and delquota: creating
// and merging limits, the stats the server keeps as nodes come and go,
// warnings, nested quotas refused, bad options and paths, and removal.
const quotaSession = `create /q
create /q/a x
setquota -n 2 /q
setquota -b 10 /q
listquota /q
create /q/b y
create /q/c z
listquota /q
get -s /zookeeper/quota/q/zookeeper_stats
get /zookeeper/quota/q/zookeeper_limits
setquota -N 5 /q
setquota -B 100 /q
listquota /q
create /q/a/sub
set /q/a xyz
delete /q/c
listquota /q
setquota -n 3 /q/a
setquota -n 3 /
setquota -n 3 /nope
setquota -n 0 /q
setquota -b -1 /q
setquota -n abc /q
setquota /q
setquota -n 2 -b 3 /q
setquota -n
setquota -n 2
setquota -n 3 /zookeeper/quota/q
setquota -n 2 /q/
setquota -n 2 q
listquota /nope
listquota
listquota /
delquota -n /q
listquota /q
delquota -N /q
listquota /q
delquota -n -b /q
delquota -x /q
delquota /q
listquota /q
ls /zookeeper/quota
delquota /q
delquota
delquota /
create /p
create /p/c
create /p/c/d
setquota -n 5 /p/c
setquota -n 5 /p
create -e /p/c/e
listquota /p/c
deleteall /p/c/d
listquota /p/c
delquota -b /p/c
ls /zookeeper/quota/p/c
delquota /p/c
ls /zookeeper/quota
`

// zkCliNoiseLine matches zkCli start-up and logging lines, not command output.
var zkCliNoiseLine = regexp.MustCompile(`^(SLF4J:|Connecting to |Welcome to ZooKeeper!|JLine support is|WATCHER::|WatchedEvent |\s*$)`)

// quotaOutput runs quotaSession in a shell and returns its stdout and its
// stderr command messages, both normalised (times, zxids).
func quotaOutput(t *testing.T, bin string, args ...string) (string, string) {
	t.Helper()
	out, errOut := runShell(t, quotaSession, bin, args...)
	keep := func(s string) string {
		var lines []string
		for _, l := range strings.Split(normaliseShell(s), "\n") {
			if !zkCliNoiseLine.MatchString(l) {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	return keep(out), keep(errOut)
}

// TestQuotaZkCliMatchesZooKeeper runs zkCli.sh's quota commands against
// Apache ZooKeeper 3.8 and against herd, and requires the same output line
// for line: the limits records written, the stats herd keeps (counts and
// bytes after creates, setData, deletes and an ephemeral), the stats node's
// unchanged version, and every message.
func TestQuotaZkCliMatchesZooKeeper(t *testing.T) {
	zkpeer.Require(t, zkpeer.ZkCli, zkpeer.Jar)
	zk := zkpeer.StartT(t, zkpeer.Options{})
	herd := herdtest.Start(t)
	wantOut, wantErr := quotaOutput(t, zkpeer.ZkCli, "-server", zk.Addr)
	if !strings.Contains(wantOut, "Output stat for /q count=") {
		t.Fatalf("zkCli.sh printed no quota output on ZooKeeper:\n%s\n%s", wantOut, wantErr)
	}
	gotOut, gotErr := quotaOutput(t, zkpeer.ZkCli, "-server", herd.Addr)
	if gotOut != wantOut {
		t.Errorf("zkCli.sh stdout differs\non herd:\n%s\non ZooKeeper:\n%s", gotOut, wantOut)
	}
	if gotErr != wantErr {
		t.Errorf("zkCli.sh stderr differs\non herd:\n%s\non ZooKeeper:\n%s", gotErr, wantErr)
	}
	if testing.Verbose() {
		t.Logf("zkCli.sh on ZooKeeper:\n%s\n--- stderr\n%s", wantOut, wantErr)
	}
}

// TestQuotaShellMatchesZkCli runs the same quota commands in herd shell and
// in zkCli.sh, each against a fresh herd, and requires the same output.
func TestQuotaShellMatchesZkCli(t *testing.T) {
	zkpeer.Require(t, zkpeer.ZkCli)
	bin := herdBinary(t)
	wantOut, wantErr := quotaOutput(t, zkpeer.ZkCli, "-server", herdtest.Start(t).Addr)
	gotOut, gotErr := quotaOutput(t, bin, "shell", "-server", herdtest.Start(t).Addr)
	if gotOut != wantOut {
		t.Errorf("stdout differs\nherd shell:\n%s\nzkCli.sh:\n%s", gotOut, wantOut)
	}
	if gotErr != wantErr {
		t.Errorf("stderr differs\nherd shell:\n%s\nzkCli.sh:\n%s", gotErr, wantErr)
	}
}
