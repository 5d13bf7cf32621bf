package proto

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/internal/zkpeer"
)

var captureSeeds = flag.Bool("capture-seeds", false,
	"run real clients (go-zookeeper, kazoo, zkCli) against Apache ZooKeeper through a recording proxy and write their packets to testdata/fuzz")

// TestCaptureSeeds regenerates the fuzz seed corpus from real client traffic.
// It is a generator, not a check: it runs only with -capture-seeds:
//
//	go test -run TestCaptureSeeds -capture-seeds ./server/proto
func TestCaptureSeeds(t *testing.T) {
	if !*captureSeeds {
		t.Skip("corpus generator; run with -capture-seeds")
	}
	zkpeer.Require(t, zkpeer.Jar, zkpeer.ZkCli, "/usr/bin/python3")
	peer := zkpeer.StartT(t, zkpeer.Options{ExtendedTypes: true})

	gz := startProxy(t, peer.Addr, 0)
	captureGoZK(t, gz)
	writeSeeds(t, "gozk", gz)

	kz := startProxy(t, peer.Addr, 0)
	runCmd(t, nil, "/usr/bin/python3", "-c", kazooScript, kz.addr())
	writeSeeds(t, "kazoo", kz)

	// zkCli's connection is cut after its first addWatch so that it reconnects
	// with setWatches2 carrying the persistent watches.
	cli := startProxy(t, peer.Addr, OpAddWatch)
	// zkCli exits non-zero because its last command fails; that is expected.
	runCmd(t, strings.NewReader(zkCliScript), zkpeer.ZkCli, "-server", cli.addr())
	if !cli.sawOp(OpSetWatches) && !cli.sawOp(OpSetWatches2) {
		t.Error("zkCli sent no setWatches after the cut")
	}
	writeSeeds(t, "zkcli", cli)

	sent, received := liveSeedsFromRaw(t)
	writeSeedFile(t, "FuzzDecodeRequest", "live-rawclient", sent...)
	writeSeedFile(t, "FuzzDecodeResponse", "live-zookeeper", received...)
}

// captureGoZK drives go-zookeeper through every call it offers, including a
// forced reconnect that makes it send setWatches.
func captureGoZK(t *testing.T, p *recProxy) {
	conn, events, err := zk.Connect([]string{p.addr()}, 10*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitSession := func() {
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.State == zk.StateHasSession {
					return
				}
			case <-deadline:
				t.Fatal("go-zk: no session")
			}
		}
	}
	waitSession()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(conn.AddAuth("digest", []byte("user:pass")))
	acl := zk.WorldACL(zk.PermAll)
	_, err = conn.Create("/gz", []byte("data"), 0, acl)
	must(err)
	_, err = conn.Create("/gz/e-", nil, zk.FlagEphemeralSequential, zk.AuthACL(zk.PermAll))
	must(err)
	_, err = conn.CreateProtectedEphemeralSequential("/gz/lock-", []byte{}, acl)
	must(err)
	_, err = conn.CreateContainer("/gz/c", nil, zk.FlagContainer, acl)
	must(err)
	_, err = conn.CreateTTL("/gz/t", []byte("t"), zk.FlagTTL, acl, time.Minute)
	must(err)
	_, _, err = conn.Get("/gz")
	must(err)
	_, _, _, err = conn.GetW("/gz")
	must(err)
	_, _, _, err = conn.ChildrenW("/gz")
	must(err)
	_, _, _, err = conn.ExistsW("/gz/missing")
	must(err)
	_, err = conn.Set("/gz", []byte("v2"), -1)
	must(err)
	_, _, err = conn.GetACL("/gz")
	must(err)
	_, err = conn.SetACL("/gz/t", zk.DigestACL(zk.PermAll, "user", "pass"), -1)
	must(err)
	_, err = conn.Sync("/gz")
	must(err)
	_, err = conn.Multi(
		&zk.CreateRequest{Path: "/gz/m", Data: []byte("m"), Acl: acl},
		&zk.SetDataRequest{Path: "/gz/m", Data: []byte("n"), Version: 0},
		&zk.CheckVersionRequest{Path: "/gz/m", Version: 1},
		&zk.DeleteRequest{Path: "/gz/m", Version: -1},
	)
	must(err)
	_, _, _, err = conn.GetW("/gz") // re-arm the data watch fired by Set
	must(err)
	// Cut the connection: go-zk reconnects, re-authenticates and sends
	// setWatches for its data, exist and child watches.
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	waitSession()
	deadline := time.Now().Add(20 * time.Second)
	for !p.sawOp(OpSetWatches) {
		if time.Now().After(deadline) {
			t.Fatal("go-zk sent no setWatches after reconnect")
		}
		_, _, _ = conn.Exists("/gz") // a round trip, so no idle sleep is needed
	}
	must(conn.Delete("/gz/t", -1))
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

const kazooScript = `
import sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=20)
zk.add_auth('digest', 'user:pass')
zk.create('/kz', b'd', acl=[make_acl('auth', '', all=True)])
zk.create('/kz/e', b'', ephemeral=True, sequence=True)
zk.create('/kz/c2', b'x', include_data=True)
zk.get('/kz', watch=lambda e: None)
zk.get_children('/kz', watch=lambda e: None)
zk.get_children('/kz', include_data=True)
zk.exists('/kz/nope', watch=lambda e: None)
zk.set('/kz', b'v2')
zk.get_acls('/kz')
zk.set_acls('/kz/c2', [make_acl('world', 'anyone', read=True)])
zk.sync('/kz')
t = zk.transaction()
t.create('/kz/t1', b'a')
t.set_data('/kz/t1', b'b')
t.check('/kz/t1', 1)
t.delete('/kz/t1')
t.commit()
zk.delete('/kz', recursive=True)
zk.stop()
zk.close()
`

// zkCliScript: getAllChildrenNumber comes after the watches are set, and the
// proxy cuts the connection once it has forwarded it.
const zkCliScript = `addauth digest user:pass
create /cli data
create -e /cli/e
create -s /cli/s
create -c /cli/c
create -t 60000 /cli/t
ls /cli
ls -s /cli
get -s /cli
get -w /cli
stat -w /cli/nope
ls -w /cli
set /cli v2
getAcl /cli
setAcl /cli world:anyone:cdrwa
sync /cli
whoami
getEphemerals /
addWatch -m PERSISTENT_RECURSIVE /cli
addWatch /cli/t
get -w /cli
getAllChildrenNumber /cli
getAllChildrenNumber /cli
removewatches /cli/t
removewatches /cli -a
config
deleteall /cli
delete /nope
quit
`

func runCmd(t *testing.T, stdin *strings.Reader, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	t.Logf("%s (%v) output:\n%s", filepath.Base(name), err, out)
}

// writeSeeds stores every captured request as a FuzzDecodeRequest seed and
// every connection's raw stream as a FuzzReadFrame seed.
func writeSeeds(t *testing.T, client string, p *recProxy) {
	t.Helper()
	n := 0
	for _, conn := range p.frames() {
		for i, f := range conn {
			name := client + "-connect"
			if i > 0 && len(f) >= 8 {
				name = client + "-" + OpCode(int32(binary.BigEndian.Uint32(f[4:]))).String()
			}
			writeSeedFile(t, "FuzzDecodeRequest", name, f)
			n++
		}
	}
	for _, s := range p.streams() {
		if len(s) > 0 {
			writeSeedFile(t, "FuzzReadFrame", client+"-stream", s)
		}
	}
	t.Logf("%s: %d request frames", client, n)
}

// writeSeedFile writes each input as one corpus file named after its
// content, so recapturing is idempotent.
func writeSeedFile(t *testing.T, target, prefix string, inputs ...[]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		sum := sha256.Sum256(in)
		name := filepath.Join(dir, prefix+"-"+hex.EncodeToString(sum[:6]))
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(in)))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// liveSeedsFromRaw runs the live test's exchange to collect this package's
// own request encodings (they include ops no client above sends, such as
// setWatches2 built by hand, multiRead and reconfig).
func liveSeedsFromRaw(t *testing.T) (sent, received [][]byte) {
	t.Run("live", TestLiveAgainstZooKeeper)
	return liveSent, liveReceived
}
