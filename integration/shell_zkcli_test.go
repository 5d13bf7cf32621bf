//go:build interop

package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
)

// shellTarget is the server both shells talk to: herd, as issue #4 asks
// (zkCli.sh and herd shell must print the same against herd).
var shellTarget = func(t testing.TB) string {
	return herdTarget(t, TargetOptions{}).Addr
}

// shellSessions are typed into both shells; outputs must match after
// normalisation. The first is the seed session from issue #4.
var shellSessions = []struct{ name, cmds string }{
	{"seed", "ls /\ncreate /A\ncreate /A/child1\nls /\nls /A\nset /A 1000\nstat /A\nget /A\nget /\n"},
	{"errors-and-flags", "create /A\ncreate /A/child1 hello\nget /nope\ncreate /A\ndelete /A\nls -s /A\nget -s /A\n" +
		"getAcl /A\nls -R /A\nset -v 99 /A x\nset -s /A x\ncreate -e /A/e\ncreate -e /A/e/x\nget -s /A/e\n" +
		"getEphemerals /A\ngetAllChildrenNumber /A\nsync /A\ncreate -s /A/q\nls /A\nget /A/child1\nwhoami\n" +
		"stat /nope\nhistory\n"},
}

// shellRunTimeout bounds one shell run (zkCli starts a JVM).
const shellRunTimeout = time.Minute

func TestShellMatchesZkCli(t *testing.T) {
	zkpeer.Require(t, zkpeer.ZkCli)
	herd := herdBinary(t)
	addr := shellTarget(t)
	for _, s := range shellSessions {
		t.Run(s.name, func(t *testing.T) {
			// Same server, same session, one client after the other; the
			// session cleans up after itself in between.
			zkOut, zkErr := runShell(t, s.cmds, zkpeer.ZkCli, "-server", addr)
			cleanup(t, herd, addr)
			herdOut, herdErr := runShell(t, s.cmds, herd, "shell", "-server", addr)
			cleanup(t, herd, addr)
			if !strings.Contains(zkOut, "[") || messages(zkErr) == "" {
				t.Fatalf("zkCli.sh printed no command output; stdout:\n%s\nstderr:\n%s", zkOut, zkErr)
			}
			if got, want := normaliseShell(herdOut), normaliseShell(zkOut); got != want {
				t.Errorf("stdout differs\nherd shell:\n%s\nzkCli.sh:\n%s", got, want)
			}
			if got, want := messages(herdErr), messages(zkErr); got != want {
				t.Errorf("stderr messages differ\nherd shell:\n%s\nzkCli.sh:\n%s", got, want)
			}
			t.Logf("matched zkCli.sh:\n%s", normaliseShell(zkOut))
		})
	}
}

// herdBinary builds cmd/herd, or uses $HERD_BIN when set.
func herdBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("HERD_BIN"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	bin := filepath.Join(t.TempDir(), "herd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/herd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build herd: %v\n%s", err, out)
	}
	return bin
}

func runShell(t *testing.T, stdin, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), shellRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// Exit statuses differ on purpose (herd shell fails a script with a failed
	// command; zkCli reports only the last one), so only a crash is an error.
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok || ctx.Err() != nil {
			t.Fatalf("%s: %v\nstderr:\n%s", bin, err, errb.String())
		}
	}
	return out.String(), errb.String()
}

func cleanup(t *testing.T, herd, addr string) {
	t.Helper()
	runShell(t, "deleteall /A\n", herd, "shell", "-server", addr)
}

var (
	shellZxid    = regexp.MustCompile(`(?m)^(cZxid|mZxid|pZxid) = 0x[0-9a-f]+$`)
	shellTime    = regexp.MustCompile(`(?m)^(ctime|mtime) = \w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}$`)
	shellOwner   = regexp.MustCompile(`(?m)^ephemeralOwner = 0x[0-9a-f]{4,}$`)
	shellSeq     = regexp.MustCompile(`q\d{10}`)
	shellConnect = regexp.MustCompile(`\n?WATCHER::\n\nWatchedEvent state:\w+ type:None path:null\n`)
	shellBanner  = regexp.MustCompile(`(?m)^(Connecting to .*|Welcome to ZooKeeper!|JLine support is \w+)\n`)
	shellMessage = regexp.MustCompile(`(?m)^(Created |Node |version No |Ephemerals cannot|Command not found|Authentication is not valid).*$`)
)

// normaliseShell drops zkCli's banner and connection events and hides values
// that differ between runs: zxids, times, session ids and sequence numbers.
func normaliseShell(s string) string {
	s = shellBanner.ReplaceAllString(s, "")
	s = shellConnect.ReplaceAllString(s, "")
	s = shellZxid.ReplaceAllString(s, "$1 = 0x?")
	s = shellTime.ReplaceAllString(s, "$1 = DATE")
	s = shellOwner.ReplaceAllString(s, "ephemeralOwner = SESSION")
	return shellSeq.ReplaceAllString(s, "qSEQ")
}

// messages keeps the command messages from stderr, without zkCli's logging.
func messages(s string) string {
	return shellSeq.ReplaceAllString(strings.Join(shellMessage.FindAllString(s, -1), "\n"), "qSEQ")
}
