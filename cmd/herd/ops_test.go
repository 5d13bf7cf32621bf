package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var httpLine = regexp.MustCompile(`^herd (AdminServer|Prometheus metrics|pprof) on (http://\S+)$`)

// startServeHTTP runs herd serve until the test ends and returns the URLs
// it printed for its HTTP listeners, once both named in want are up.
func startServeHTTP(t *testing.T, stderr io.Writer, want int, args ...string) map[string]string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, args, pw, stderr)
		pw.Close()
	}()
	exited := make(chan int, 1) // serve's status, read once
	go func() { exited <- <-done }()
	t.Cleanup(func() {
		stop()
		if code := <-exited; code != 0 {
			t.Errorf("exit status %d", code)
		}
	})
	urls := map[string]string{}
	found := make(chan map[string]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := httpLine.FindStringSubmatch(sc.Text()); m != nil {
				urls[m[1]] = m[2]
				if len(urls) == want {
					found <- urls
				}
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case code := <-exited:
		exited <- code
		t.Fatalf("serve exited with %d", code)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start its HTTP listeners")
	}
	return nil
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeAdminAndMetricsFromZooCfg starts herd serve from a zoo.cfg that
// names the Prometheus provider and places the AdminServer, both on port 0.
func TestServeAdminAndMetricsFromZooCfg(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	zoo := fmt.Sprintf("dataDir=%s\n"+
		"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"+
		"metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=0\n"+
		"admin.serverAddress=127.0.0.1\nadmin.serverPort=0\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	urls := startServeHTTP(t, io.Discard, 2, "--config", cfg, "--listen", "127.0.0.1:0", "--log-level", "error")
	if code, body := httpGet(t, urls["AdminServer"]+"/commands/ruok"); code != 200 || !strings.Contains(body, `"command": "ruok"`) {
		t.Errorf("ruok: %d %s", code, body)
	}
	if code, _ := httpGet(t, urls["AdminServer"]+"/readyz"); code != 200 {
		t.Errorf("readyz: %d", code)
	}
	if code, body := httpGet(t, urls["Prometheus metrics"]+"/metrics"); code != 200 ||
		!strings.Contains(body, "\nznode_count ") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics: %d %.300s", code, body)
	}
}

// TestServePprof: --pprof-addr serves Go's profiles, and nothing else of
// herd's; without it there is no such listener.
func TestServePprof(t *testing.T) {
	dir := t.TempDir()
	urls := startServeHTTP(t, io.Discard, 2, "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--admin-addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0", "--log-level", "error")
	if code, body := httpGet(t, urls["pprof"]+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("goroutine profile: %d %.200s", code, body)
	}
	if code, _ := httpGet(t, urls["pprof"]+"/commands/ruok"); code != 404 {
		t.Errorf("the pprof listener served an AdminServer command: %d", code)
	}
	if code, _ := httpGet(t, urls["AdminServer"]+"/debug/pprof/"); code == 200 {
		t.Error("the AdminServer serves the profiles")
	}
}

// TestServeWarnsAboutKeysAndStrictRefuses: a misspelled key is a warning
// naming it, its line and the key meant; --strict refuses to start.
func TestServeWarnsAboutKeysAndStrictRefuses(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	zoo := fmt.Sprintf("dataDir=%s\ntickTme=2000\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	code := serve(context.Background(), []string{"--config", cfg, "--strict", "--listen", "127.0.0.1:0"}, io.Discard, &logs)
	if code != 2 || !strings.Contains(logs.String(), "line 2: tickTme is not a setting herd knows (did you mean tickTime?)") ||
		!strings.Contains(logs.String(), "--strict") {
		t.Errorf("--strict: exit %d, logs:\n%s", code, logs.String())
	}

	var warn syncBuffer
	startServeHTTP(t, &warn, 1, "--config", cfg, "--listen", "127.0.0.1:0", "--log-level", "warn", "--admin-addr", "127.0.0.1:0")
	if w := warn.String(); !strings.Contains(w, "warn\tzoo.cfg: line 2: tickTme is not a setting herd knows (did you mean tickTime?); ignored") {
		t.Errorf("without --strict, no warning naming the key:\n%s", w)
	}
}

// TestServeLogsJSON: --log-format json writes one JSON object per line,
// Raft's messages included under their own logger name.
func TestServeLogsJSON(t *testing.T) {
	var logs syncBuffer
	urls := startServeHTTP(t, &logs, 1, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json",
		"--log-level", "debug", "--admin-addr", "127.0.0.1:0")
	if code, _ := httpGet(t, urls["AdminServer"]+"/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	var sawRaft bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q (%v)", line, err)
		}
		if m["logger"] == "cluster.raft" {
			sawRaft = true
		}
	}
	if !sawRaft {
		t.Errorf("no Raft message at debug level in:\n%s", logs.String())
	}
	if code := serve(context.Background(), []string{"--log-format", "xml"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("--log-format xml: exit %d", code)
	}
}
