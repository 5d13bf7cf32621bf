//go:build interop

package integration

import (
	"regexp"
	"strings"
	"testing"

	"github.com/herd-io/herd/internal/zkpeer"
)

// pathSession is typed into zkCli.sh and herd shell: paths the Java client
// refuses before sending (PathUtils.validatePath), and near misses it sends.
// (zkCli.sh 3.8 dies on "addWatch A" with an uncaught exception; herd shell
// prints the message, so addWatch is left out of the comparison.)
const pathSession = "ls A\nls /a/\nls -R A\nget A\nget /a//b\nstat A\nset A x\ndelete A\ndeleteall A\n" +
	"sync A\ngetAcl A\nsetAcl A world:anyone:cdrwa\nremovewatches A\ngetAllChildrenNumber A\n" +
	"getEphemerals A\ncreate A\ncreate /a/\ncreate -s /a/\ncreate /a/./b\ncreate /a/../b\ncreate /.\n" +
	"create /..\ncreate /a/.b\ncreate //\nls \"\"\nget /a\n"

// pathMessage keeps the lines both shells print for these commands.
var pathMessage = regexp.MustCompile(`(?m)^(Path |Invalid path string|Node does not exist|Created |\[).*$`)

func TestShellPathMessagesMatchZkCli(t *testing.T) {
	zkpeer.Require(t, zkpeer.ZkCli)
	herd := herdBinary(t)
	addr := shellTarget(t)
	zkOut, zkErr := runShell(t, pathSession, zkpeer.ZkCli, "-server", addr)
	herdOut, herdErr := runShell(t, pathSession, herd, "shell", "-server", addr)
	want := strings.Join(pathMessage.FindAllString(zkOut+zkErr, -1), "\n")
	got := strings.Join(pathMessage.FindAllString(herdOut+herdErr, -1), "\n")
	if strings.Count(want, "\n") < 20 {
		t.Fatalf("zkCli.sh printed too few messages:\nstdout:\n%s\nstderr:\n%s", zkOut, zkErr)
	}
	if got != want {
		t.Errorf("messages differ\nherd shell:\n%s\nzkCli.sh:\n%s", got, want)
	}
}

// TestShellChrootMatchesZkCli runs the same session under a chroot in the
// connect string, as zkCli accepts it.
func TestShellChrootMatchesZkCli(t *testing.T) {
	zkpeer.Require(t, zkpeer.ZkCli)
	herd := herdBinary(t)
	addr := shellTarget(t)
	runShell(t, "create /chroot\n", herd, "shell", "-server", addr)
	session := "ls /\ncreate /b\ncreate /b/c\nls /\nls /b\nget /nope\nls -R /\n"
	zkOut, zkErr := runShell(t, session, zkpeer.ZkCli, "-server", addr+"/chroot")
	runShell(t, "deleteall /b\n", herd, "shell", "-server", addr+"/chroot")
	herdOut, herdErr := runShell(t, session, herd, "shell", "-server", addr+"/chroot")
	if got, want := normaliseShell(herdOut), normaliseShell(zkOut); got != want {
		t.Errorf("stdout differs\nherd shell:\n%s\nzkCli.sh:\n%s", got, want)
	}
	if got, want := messages(herdErr), messages(zkErr); got != want || !strings.Contains(want, "Created /b/c") {
		t.Errorf("stderr messages differ\nherd shell:\n%s\nzkCli.sh:\n%s", got, want)
	}
	// What the chroot holds is under /chroot for a client without one.
	if out, _ := runShell(t, "ls /chroot\n", herd, "shell", "-server", addr); out != "[b]\n" {
		t.Errorf("ls /chroot without the chroot: %q", out)
	}
	runShell(t, "deleteall /chroot\n", herd, "shell", "-server", addr)
}
