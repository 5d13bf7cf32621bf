package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/testcerts"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/tlsconf"
)

// withBackupWord lists "snap" in the whitelist, as an operator must.
var withBackupWord = herdtest.WithConfig(func(c *server.Config) { c.FourLetterWords = []string{"*", server.BackupWord} })

func dialZK(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// dumpTree renders every persistent znode with its data, ACL and stat;
// ephemerals (their sessions are not carried over as live) are left out.
func dumpTree(t *testing.T, c *zk.Conn) string {
	t.Helper()
	var lines []string
	var walk func(p string)
	walk = func(p string) {
		data, st, err := c.Get(p)
		if err != nil {
			t.Fatalf("get %s: %v", p, err)
		}
		if st.EphemeralOwner != 0 {
			return
		}
		acl, _, err := c.GetACL(p)
		if err != nil {
			t.Fatalf("getACL %s: %v", p, err)
		}
		lines = append(lines, fmt.Sprintf("%s %q %v cz=%d mz=%d pz=%d ct=%d mt=%d v=%d cv=%d av=%d", p, data, acl,
			st.Czxid, st.Mzxid, st.Pzxid, st.Ctime, st.Mtime, st.Version, st.Cversion, st.Aversion))
		kids, _, err := c.Children(p)
		if err != nil {
			t.Fatalf("children %s: %v", p, err)
		}
		sort.Strings(kids)
		for _, k := range kids {
			if p == "/" {
				walk("/" + k)
			} else {
				walk(p + "/" + k)
			}
		}
	}
	walk("/")
	return strings.Join(lines, "\n")
}

// seed writes a tree worth comparing: nesting, data, null data, an ACL, a
// sequential node, a deleted node (cversion, pzxid), an ephemeral, a quota.
func seed(t *testing.T, c *zk.Conn) {
	t.Helper()
	open := zk.WorldACL(zk.PermAll)
	for _, n := range []struct{ path, data string }{
		{"/app", "config"}, {"/app/a", ""}, {"/app/a/deep", "x"}, {"/gone", ""}, {"/zookeeper/quota/app", ""},
		{"/zookeeper/quota/app/zookeeper_limits", "count=10,bytes=-1"}, {"/zookeeper/quota/app/zookeeper_stats", ""},
	} {
		if _, err := c.Create(n.path, []byte(n.data), 0, open); err != nil {
			t.Fatalf("create %s: %v", n.path, err)
		}
	}
	if _, err := c.Create("/app/ro", []byte("read only"), 0, zk.WorldACL(zk.PermRead)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/app/job-", nil, zk.FlagSequence, open); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/app/e", []byte("mine"), zk.FlagEphemeral, open); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set("/app", []byte("config v2"), 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("/gone", 0); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotSaveRestore saves a backup from a running server, restores it
// into a fresh data dir, starts a server there and requires the same tree
// (data, ACLs, every stat field; ephemerals excluded), zxids that go on from
// the backup's, and quota stats that keep counting.
func TestSnapshotSaveRestore(t *testing.T) {
	src := herdtest.Start(t, withBackupWord)
	c := dialZK(t, src.Addr)
	seed(t, c)
	want := dumpTree(t, c)
	file := filepath.Join(t.TempDir(), "backup.herd")
	var out, errOut bytes.Buffer
	if code := run([]string{"snapshot", "save", file, "--server", src.Addr}, nil, &out, &errOut); code != 0 {
		t.Fatalf("save: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "saved "+file+": state at zxid 0x") {
		t.Errorf("save printed %q", out.String())
	}
	// Writes after the backup are not in it.
	if _, err := c.Create("/after", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	out.Reset()
	if code := run([]string{"snapshot", "restore", file, "--data-dir", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "for a standalone node") {
		t.Errorf("restore printed %q", out.String())
	}
	dst := herdtest.Start(t, herdtest.WithConfig(func(c *server.Config) { c.DataDir = dir }))
	c2 := dialZK(t, dst.Addr)
	if got := dumpTree(t, c2); got != want {
		t.Fatalf("restored tree differs\nrestored:\n%s\nsaved:\n%s", got, want)
	}
	_, st, err := c2.Get("/app")
	if err != nil {
		t.Fatal(err)
	}
	created, err := c2.Create("/restored", nil, 0, zk.WorldACL(zk.PermAll))
	if err != nil {
		t.Fatal(err)
	}
	_, st2, _ := c2.Get(created)
	if st2.Czxid <= st.Mzxid {
		t.Errorf("new write's zxid 0x%x is not past the backup's 0x%x", st2.Czxid, st.Mzxid)
	}
	if _, err := c2.Create("/app/more", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	// app, a, deep, ro, job-, the ephemeral e (its session has not expired yet) and more.
	if d, _, _ := c2.Get("/zookeeper/quota/app/zookeeper_stats"); string(d) != "count=7,bytes=23" {
		t.Errorf("quota stats after restore and one create: %q", d)
	}
	// The target must be new: restoring over a node's data is refused.
	dst.Stop()
	if code := run([]string{"snapshot", "restore", file, "--data-dir", dir}, nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "already holds raft state") {
		t.Errorf("restore over existing state: exit %d, %q", code, errOut.String())
	}
}

// TestSnapshotSaveRefusals: a node whose whitelist lacks "snap" ("*" is not
// enough) refuses, and nothing is written; a damaged backup is not restored
// and leaves the data dir empty.
func TestSnapshotSaveRefusals(t *testing.T) {
	src := herdtest.Start(t) // whitelist "*"
	file := filepath.Join(t.TempDir(), "b")
	var out, errOut bytes.Buffer
	if code := run([]string{"snapshot", "save", "--server", src.Addr, file}, nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "snap is not executed because it is not in the whitelist.") {
		t.Errorf("save from a node without snap: exit %d, %q", code, errOut.String())
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a refused save left %s: %v", file, err)
	}

	ok := herdtest.Start(t, withBackupWord)
	seed(t, dialZK(t, ok.Addr))
	if code := run([]string{"snapshot", "save", file, "--server", ok.Addr}, nil, &out, &errOut); code != 0 {
		t.Fatalf("save: %s", errOut.String())
	}
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"cut short": whole[:len(whole)-40],
		"flipped":   append(append(append([]byte{}, whole[:100]...), whole[100]^1), whole[101:]...),
		"foreign":   []byte("not a backup at all"),
	} {
		p := filepath.Join(t.TempDir(), "bad")
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		errOut.Reset()
		if code := run([]string{"snapshot", "restore", p, "--data-dir", dir}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "bad backup") {
			t.Errorf("%s: exit %d, %q", name, code, errOut.String())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: the data dir was written: %v", name, entries)
		}
	}
}

// TestSnapshotRestoreNewCluster restores one backup into the data dirs of a
// new three-node cluster (--server lines), starts the members on them, and
// requires the same tree on every member, a leader elected from the seeded
// membership, and writes that replicate.
func TestSnapshotRestoreNewCluster(t *testing.T) {
	src := herdtest.Start(t, withBackupWord)
	seed(t, dialZK(t, src.Addr))
	want := dumpTree(t, dialZK(t, src.Addr))
	file := filepath.Join(t.TempDir(), "backup.herd")
	var out, errOut bytes.Buffer
	if code := run([]string{"snapshot", "save", file, "--server", src.Addr}, nil, &out, &errOut); code != 0 {
		t.Fatalf("save: %s", errOut.String())
	}
	src.Stop()

	var servers, clients, dirs []string
	for i := 1; i <= 3; i++ {
		c := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		clients = append(clients, c)
		dirs = append(dirs, t.TempDir())
		servers = append(servers, "--server", fmt.Sprintf("%d=127.0.0.1:%d:%d;%s", i, freePort(t), freePort(t), c))
	}
	for i := 1; i <= 3; i++ {
		args := append([]string{"snapshot", "restore", file, "--data-dir", dirs[i-1], "--myid", fmt.Sprint(i)}, servers...)
		if code := run(args, nil, &out, &errOut); code != 0 {
			t.Fatalf("restore server.%d: %s", i, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "for server.3 of 3") {
		t.Errorf("restore printed %q", out.String())
	}
	type member struct {
		stop   func()
		status <-chan int
	}
	var members []member
	defer func() {
		for _, m := range members {
			m.stop()
			<-m.status
		}
	}()
	for i := 1; i <= 3; i++ {
		args := append([]string{"--myid", fmt.Sprint(i), "--data-dir", dirs[i-1], "--log-level", "error"}, servers...)
		_, stop, status := startServe(t, args...)
		members = append(members, member{stop, status})
	}
	c, _, err := zk.Connect(clients, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A write through the cluster proves a leader; then every member must
	// hold the restored tree (plus the write) once it has caught up.
	if _, err := c.Create("/after-restore", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	for i, addr := range clients {
		mc, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := syncPath(mc, "/after-restore"); err != nil {
			t.Fatalf("server.%d: %v", i+1, err)
		}
		got := dumpTree(t, mc)
		mc.Close()
		// The restored part is everything but the new node.
		var kept []string
		for _, l := range strings.Split(got, "\n") {
			if !strings.HasPrefix(l, "/after-restore ") {
				kept = append(kept, l)
			}
		}
		if strings.Join(kept, "\n") != wantWithoutRootChange(want, got) {
			t.Errorf("server.%d's tree differs from the backup's\ngot:\n%s\nwant:\n%s", i+1, got, want)
		}
	}
}

// syncPath waits for the member to have applied the write at path.
func syncPath(c *zk.Conn, path string) error {
	if _, err := c.Sync(path); err != nil {
		return err
	}
	_, _, err := c.Get(path)
	return err
}

// wantWithoutRootChange is want with "/"'s line taken from got: the write
// after the restore changed the root's cversion and pzxid, nothing else.
func wantWithoutRootChange(want, got string) string {
	root := strings.SplitN(got, "\n", 2)[0]
	lines := strings.Split(want, "\n")
	lines[0] = root
	return strings.Join(lines, "\n")
}

// TestSnapshotSaveOverTLS: save reaches a TLS port that needs a client
// certificate with --tls-ca/--tls-cert/--tls-key, and is refused without one.
func TestSnapshotSaveOverTLS(t *testing.T) {
	certs := testcerts.New(t)
	tc, err := tlsconf.ServerConfig(tlsconf.Options{KeyStore: certs.ServerStore, TrustStore: certs.CA, ClientAuth: "need"})
	if err != nil {
		t.Fatal(err)
	}
	src := herdtest.Start(t, withBackupWord)
	addr := testcerts.ServeTLS(t, src.Server(), tc)
	file := filepath.Join(t.TempDir(), "b")
	var out, errOut bytes.Buffer
	if code := run([]string{"snapshot", "save", file, "--server", addr, "--tls-ca", certs.CA}, nil, &out, &errOut); code != 1 {
		t.Errorf("save without a client certificate: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"snapshot", "save", file, "--server", addr, "--tls-ca", certs.CA,
		"--tls-cert", certs.ClientCert, "--tls-key", certs.ClientKey}, nil, &out, &errOut); code != 0 {
		t.Fatalf("save over TLS: exit %d, %q", code, errOut.String())
	}
	if code := run([]string{"snapshot", "restore", file, "--data-dir", t.TempDir()}, nil, &out, &errOut); code != 0 {
		t.Errorf("restore of the TLS backup: %q", errOut.String())
	}
}
