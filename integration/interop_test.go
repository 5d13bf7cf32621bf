//go:build interop

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// driverTimeout bounds one driver run; each takes a few seconds.
const driverTimeout = 2 * time.Minute

// scenarioResult is one JSON line printed by a driver.
type scenarioResult struct {
	Scenario string `json:"scenario"`
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Trace    string `json:"trace"`
}

// peersDir is integration/peers, found from this file so tests run from any directory.
func peersDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the peers directory")
	}
	return filepath.Join(filepath.Dir(file), "peers")
}

// runDriver runs a driver command, then requires every scenario in want to be
// reported ok and the process to exit 0. Its output is logged on failure.
func runDriver(t *testing.T, cmd *exec.Cmd, want []string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r scenarioResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Errorf("driver printed a bad result line %q: %v", line, err)
			continue
		}
		seen[r.Scenario] = true
		if !r.OK {
			t.Errorf("scenario %s failed: %s\n%s", r.Scenario, r.Error, r.Trace)
		}
	}
	for _, s := range want {
		if !seen[s] {
			t.Errorf("scenario %s did not report", s)
		}
	}
	if runErr != nil {
		t.Errorf("driver exited with %v", runErr)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("driver stdout:\n%s\ndriver stderr:\n%s", stdout.String(), tail(stderr.String(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func driverContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), driverTimeout)
	t.Cleanup(cancel)
	return ctx
}
