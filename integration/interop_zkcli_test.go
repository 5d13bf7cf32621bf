//go:build interop

package integration

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/herd-io/herd/internal/zkpeer"
)

// zkCliSession is fed to zkCli.sh on stdin. Each command is paired with the
// exact lines it prints; "re:" marks a regular expression (times and zxids).
var zkCliSession = []struct {
	cmd  string
	want []string
}{
	{"create /cli hello", []string{"Created /cli"}},
	{"create /cli again", []string{"Node already exists: /cli"}},
	{"get /cli", []string{"hello"}},
	{"set /cli world", nil},
	{"set -v 7 /cli x", []string{"version No is not valid : /cli"}},
	{"get -s /cli", append([]string{"world"}, zkCliStat(0, 1, 0, 5, 0)...)},
	{"create -s /cli/s- x", []string{"Created /cli/s-0000000000"}},
	{"create -e /cli/e x", []string{"Created /cli/e"}},
	{"create /cli/a", []string{"Created /cli/a"}},
	{"ls /cli", []string{"[a, e, s-0000000000]"}},
	{"ls -s /cli", append([]string{"[a, e, s-0000000000]"}, zkCliStat(3, 1, 0, 5, 3)...)},
	{"getAllChildrenNumber /cli", []string{"3"}},
	{"getEphemerals /cli", []string{"[/cli/e]"}},
	{"whoami", []string{"Auth scheme: User", "ip: 127.0.0.1"}},
	{"sync /cli", []string{"Sync is OK"}},
	{"create /cli/ro r", []string{"Created /cli/ro"}},
	{"setAcl /cli/ro world:anyone:r", nil},
	{"getAcl /cli/ro", []string{"'world,'anyone", ": r"}},
	{"set /cli/ro y", []string{"Insufficient permission : /cli/ro"}},
	{"delete /cli", []string{"Node not empty: /cli"}},
	{"delete /cli/a", nil},
	{"ls /cli", []string{"[e, ro, s-0000000000]"}},
	{"get /nope", []string{"Node does not exist: /nope"}},
	{"ls /nope", []string{"Node does not exist: /nope"}},
	{"deleteall /cli", nil},
	{"stat /cli", []string{"Node does not exist: /cli"}},
	{"ls /", []string{"[zookeeper]"}}, // last: zkCli exits with the last command's status
}

// zkCliStat is the stat block zkCli prints, with zxids and times as patterns.
func zkCliStat(cversion, version, aversion, dataLength, numChildren int) []string {
	n := func(k string, v int) string { return k + " = " + strconv.Itoa(v) }
	return []string{
		`re:cZxid = 0x[0-9a-f]+`, `re:ctime = .+`, `re:mZxid = 0x[0-9a-f]+`, `re:mtime = .+`, `re:pZxid = 0x[0-9a-f]+`,
		n("cversion", cversion), n("dataVersion", version), n("aclVersion", aversion),
		"ephemeralOwner = 0x0", n("dataLength", dataLength), n("numChildren", numChildren),
	}
}

// zkCliNoise matches start-up and session lines that are not command output.
var zkCliNoise = regexp.MustCompile(`^(SLF4J:|Connecting to |Welcome to ZooKeeper!|JLine support|WATCHER::|WatchedEvent )`)

// TestZkCliInterop drives zkCli.sh against every target and compares its
// output line by line with what each command prints on ZooKeeper.
func TestZkCliInterop(t *testing.T) {
	zkpeer.Require(t, zkpeer.ZkCli)
	var stdin strings.Builder
	var want []string
	for _, c := range zkCliSession {
		stdin.WriteString(c.cmd + "\n")
		want = append(want, c.want...)
	}
	stdin.WriteString("quit\n")
	for _, tg := range targets(t, TargetOptions{}) {
		t.Run(tg.Name, func(t *testing.T) {
			cmd := exec.CommandContext(driverContext(t), zkpeer.ZkCli, "-server", tg.Addr)
			cmd.Stdin = strings.NewReader(stdin.String())
			raw, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("zkCli.sh: %v\n%s", err, raw)
			}
			if !strings.Contains(string(raw), "WatchedEvent state:SyncConnected") {
				t.Fatalf("zkCli.sh never connected:\n%s", raw)
			}
			var got []string
			for _, l := range strings.Split(string(raw), "\n") {
				l = strings.TrimRight(l, "\r ")
				if l != "" && !zkCliNoise.MatchString(l) {
					got = append(got, l)
				}
			}
			if !linesMatch(want, got) {
				t.Fatalf("zkCli.sh output differs\nwant:\n%s\ngot:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
			}
		})
	}
}

func linesMatch(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		if re, ok := strings.CutPrefix(w, "re:"); ok {
			if !regexp.MustCompile("^" + re + "$").MatchString(got[i]) {
				return false
			}
		} else if w != got[i] {
			return false
		}
	}
	return true
}
