package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestCheck runs herd serve on a fresh data dir, writes, stops it, and checks
// the data dir offline: ok, then DAMAGED (naming the segment) once a byte of
// the log is flipped; and refuses while a node runs on it.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	addr, cancel, status := startServe(t, "-listen", "127.0.0.1:0", "-data-dir", dir, "-log-level", "error")
	conn, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a", "/b", "/c"} {
		if _, err := conn.Create(p, bytes.Repeat([]byte("d"), 500), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	if code := check([]string{"--data-dir", dir}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "in use") {
		t.Fatalf("check of a running node: exit %d, %q", code, errOut.String())
	}
	conn.Close()
	cancel()
	if code := <-status; code != 0 {
		t.Fatalf("serve exit %d", code)
	}

	out.Reset()
	if code := check([]string{"--data-dir", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "result: ok") ||
		!strings.Contains(out.String(), "stopped cleanly") {
		t.Fatalf("check exit %d:\n%s%s", code, out.String(), errOut.String())
	}
	t.Logf("healthy:\n%s", out.String())

	segs, _ := filepath.Glob(filepath.Join(dir, "raft", "wal", "*.wal"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, bytes.Repeat([]byte("d"), 500))
	b[at+100] ^= 0xff
	if err := os.WriteFile(segs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := check([]string{"--data-dir", dir}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "DAMAGED") ||
		!strings.Contains(out.String(), segs[0]) {
		t.Fatalf("check of a damaged log: exit %d:\n%s", code, out.String())
	}
	t.Logf("damaged:\n%s", out.String())
	// And herd serve refuses to start on it.
	if code := serve(context.Background(), noFixedPorts([]string{"-listen", "127.0.0.1:0", "-data-dir", dir}), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "damaged") {
		t.Fatalf("serve on a damaged log: exit %d, %s", code, errOut.String())
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
