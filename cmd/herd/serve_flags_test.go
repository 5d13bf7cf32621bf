package main

import (
	"bytes"
	"io"
	"runtime/debug"
	"strings"
	"testing"
)

// TestServeHelpExitsZero: herd serve -h prints its flags and exits 0, as
// herd shell -h and herd bench -h do.
func TestServeHelpExitsZero(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var out, errOut bytes.Buffer
		code := run([]string{"serve", arg}, strings.NewReader(""), &out, &errOut)
		if code != 0 || !strings.Contains(errOut.String(), "-data-dir") {
			t.Errorf("herd serve %s: exit %d, stderr %q; want 0 and the flags", arg, code, errOut.String())
		}
	}
}

// TestServeStartupLineShowsHerdsVersion: the start-up line names herd's own
// version (what herd version prints first), not the emulated ZooKeeper's.
func TestServeStartupLineShowsHerdsVersion(t *testing.T) {
	line, stop, status := startServeLine(t, io.Discard, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "error")
	stop()
	if code := <-status; code != 0 {
		t.Fatalf("exit %d", code)
	}
	info, _ := debug.ReadBuildInfo()
	if want := "herd " + ownVersion(info) + " serving ZooKeeper clients on "; !strings.HasPrefix(line, want) {
		t.Errorf("start-up line %q, want it to begin %q", line, want)
	}
}
