//go:build interop

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/recipes/cache"
	"github.com/herd-io/herd/recipes/counter"
	"github.com/herd-io/herd/recipes/discovery"
)

// curatorMoreJars adds curator-x-discovery (Debian libcurator-discovery-java)
// and the Jackson jars it serializes with to the Curator classpath.
var curatorMoreJars = append(append([]string{}, curatorJars...),
	"/usr/share/java/curator-x-discovery.jar",
	"/usr/share/java/jackson-databind.jar",
	"/usr/share/java/jackson-core.jar",
	"/usr/share/java/jackson-annotations.jar",
)

// peerLine is one JSON line of CuratorMorePeer or kazoo_counter.py.
type peerLine struct {
	Scenario string `json:"scenario"`
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Data     string `json:"data"`
}

// peerProc is a running peer whose result lines the test reads as they come.
type peerProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan peerLine
	stderr bytes.Buffer
	done   chan error
}

func startPeer(t *testing.T, name string, args ...string) *peerProc {
	t.Helper()
	p := &peerProc{t: t, cmd: exec.CommandContext(driverContext(t), name, args...), lines: make(chan peerLine, 16), done: make(chan error, 1)}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			var l peerLine
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Scenario != "" {
				p.lines <- l
			}
		}
	}()
	go func() {
		wg.Wait()
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// next returns the peer's next result line, which must be scenario and ok.
func (p *peerProc) next(scenario string) peerLine {
	p.t.Helper()
	timer := time.NewTimer(driverTimeout)
	defer timer.Stop()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("peer exited before %s; stderr:\n%s", scenario, tail(p.stderr.String(), 4000))
		}
		if l.Scenario != scenario || !l.OK {
			p.t.Fatalf("peer line %+v, want %s ok; stderr:\n%s", l, scenario, tail(p.stderr.String(), 4000))
		}
		return l
	case <-timer.C:
		p.t.Fatalf("timed out waiting for %s", scenario)
	}
	return peerLine{}
}

// release lets a peer waiting on its standard input go on.
func (p *peerProc) release() {
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for a successful exit.
func (p *peerProc) wait() {
	p.t.Helper()
	for range p.lines {
	}
	if err := <-p.done; err != nil {
		p.t.Fatalf("peer: %v; stderr:\n%s", err, tail(p.stderr.String(), 4000))
	}
	p.done <- nil // for the cleanup
}

func moreClient(t *testing.T, addr string) *framework.Client {
	t.Helper()
	c, err := framework.New(addr, framework.WithSessionTimeout(10*time.Second),
		framework.WithRetryPolicy(framework.RetryNTimes(20, 50*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.BlockUntilConnected(driverContext(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

func eventuallyMore(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(driverTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not ordering events
	}
}

// incrementShared adds 1 to s, n times, each by TrySetCount until it wins.
func incrementShared(ctx context.Context, s *counter.SharedCount, n int) error {
	for i := 0; i < n; i++ {
		for {
			cur := s.Versioned()
			ok, err := s.TrySetCount(ctx, cur, cur.Value+1)
			if err != nil {
				return err
			}
			if ok {
				break
			}
		}
	}
	return nil
}

// TestCuratorMoreInterop runs peers/CuratorMorePeer.java against herd, each
// scenario interleaved with herd's recipes on the same paths.
func TestCuratorMoreInterop(t *testing.T) {
	zkpeer.Require(t, append([]string{"/usr/bin/javac", "/usr/bin/java"}, curatorMoreJars...)...)
	cp := strings.Join(curatorMoreJars, ":")
	classes := t.TempDir()
	javac := []string{"-d", classes, "-cp", cp, "-nowarn"}
	for _, f := range jvmQuick {
		javac = append(javac, "-J"+f)
	}
	javac = append(javac, filepath.Join(peersDir(t), "CuratorMorePeer.java"))
	if out, err := exec.CommandContext(driverContext(t), "javac", javac...).CombinedOutput(); err != nil {
		t.Fatalf("javac CuratorMorePeer.java: %v\n%s", err, out)
	}
	for _, tg := range targets(t, TargetOptions{}) {
		java := func(t *testing.T, args ...string) *peerProc {
			all := append(append(append([]string{}, jvmQuick...), "-cp", classes+":"+cp, "CuratorMorePeer", tg.Addr), args...)
			return startPeer(t, "java", all...)
		}
		t.Run(tg.Name+"/SharedCount", func(t *testing.T) { curatorSharedCount(t, tg, java) })
		t.Run(tg.Name+"/AtomicLong", func(t *testing.T) { curatorAtomicLong(t, tg, java) })
		t.Run(tg.Name+"/DiscoveryHerdToCurator", func(t *testing.T) { discoveryHerdToCurator(t, tg, java) })
		t.Run(tg.Name+"/DiscoveryCuratorToHerd", func(t *testing.T) { discoveryCuratorToHerd(t, tg, java) })
		t.Run(tg.Name+"/Cache", func(t *testing.T) { curatorCacheSameState(t, tg, java) })
	}
}

type javaFunc func(t *testing.T, args ...string) *peerProc

// curatorSharedCount: Curator reads herd's count; both add at once and the
// total is exact.
func curatorSharedCount(t *testing.T, tg Target, java javaFunc) {
	ctx := driverContext(t)
	path := "/more/sharedcount"
	s, err := counter.NewSharedCount(moreClient(t, tg.Addr), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCount(ctx, 42); err != nil {
		t.Fatal(err)
	}
	p := java(t, "sharedCountRead", path, "42")
	p.next("sharedCountRead")
	p.wait()
	p = java(t, "sharedCountIncrement", path, "40")
	if err := incrementShared(ctx, s, 40); err != nil {
		t.Fatal(err)
	}
	p.next("sharedCountIncrement")
	p.wait()
	eventuallyMore(t, "the count 122", func() bool { return s.Count() == 122 })
	p = java(t, "sharedCountRead", path, "122")
	p.next("sharedCountRead")
	p.wait()
}

// curatorAtomicLong: Curator's DistributedAtomicLong (promoted to a lock on
// <path>-lock) and herd's AtomicLong (promoted to its own mutex on the same
// lock path at once) increment together; the total is exact.
func curatorAtomicLong(t *testing.T, tg Target, java javaFunc) {
	ctx := driverContext(t)
	path := "/more/atomic"
	c := moreClient(t, tg.Addr)
	a, err := counter.NewAtomicLong(c, path, counter.WithRetryPolicy(framework.NoRetry()),
		counter.WithLockRetryPolicy(framework.RetryNTimes(10, 5*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	p := java(t, "atomicLongIncrement", path, "60")
	for i := 0; i < 60; i++ {
		if _, err := a.Increment(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p.next("atomicLongIncrement")
	p.wait()
	if v, err := a.Get(ctx); err != nil || v != 120 {
		t.Fatalf("Get = %d, %v; want 120", v, err)
	}
	if kids, _, err := c.Children(ctx, path+"-lock"); err == nil && len(kids) != 0 {
		t.Fatalf("lock nodes left: %v", kids)
	}
}

// discoveryHerdToCurator: Curator's ServiceDiscovery finds herd's instance,
// its provider picks it, and Curator re-serializes it to the bytes herd wrote.
func discoveryHerdToCurator(t *testing.T, tg Target, java javaFunc) {
	ctx := driverContext(t)
	base := "/more/discovery-a"
	d, err := discovery.New(moreClient(t, tg.Addr), base)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	spec, _ := discovery.ParseURISpec("{scheme}://{address}:{port}/api")
	in, err := d.Register(ctx, discovery.Instance{Name: "svc", ID: "herd-1", Address: "127.0.0.7", Port: 7070,
		Payload: json.RawMessage(`"herd payload <&>"`), URISpec: spec})
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := in.CuratorJSON()
	p := java(t, "discoveryFind", base, "svc", "herd-1")
	l := p.next("discoveryFind")
	p.wait()
	gotJSON, uri, _ := strings.Cut(l.Data, "|")
	if gotJSON != string(mine) {
		t.Fatalf("Curator re-serialized herd's instance as\n%s\nherd wrote\n%s", gotJSON, mine)
	}
	if uri != "http://127.0.0.7:7070/api" {
		t.Fatalf("Curator built the URI %q", uri)
	}
}

// discoveryCuratorToHerd: herd finds Curator's instance with every field,
// re-serializes it to Curator's bytes, and sees it go when Curator closes.
func discoveryCuratorToHerd(t *testing.T, tg Target, java javaFunc) {
	ctx := driverContext(t)
	base := "/more/discovery-b"
	c := moreClient(t, tg.Addr)
	d, err := discovery.New(c, base)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	p := java(t, "discoveryRegister", base, "svc", "java-1")
	curatorJSON := p.next("discoveryRegister:registered").Data
	p.next("discoveryRegister:ready")
	in, err := d.QueryInstance(ctx, "svc", "java-1")
	if err != nil {
		t.Fatal(err)
	}
	if in.Address != "127.0.0.9" || in.Port != 9090 || in.SSLPort != 9443 || string(in.Payload) != `"java-payload <&>"` ||
		in.RegistrationTimeUTC != 1700000000123 || in.ServiceType != discovery.Dynamic || !in.Enabled {
		t.Fatalf("herd read Curator's instance as %+v", in)
	}
	if got := in.URISpec.Build(in, nil); got != "https://127.0.0.9:9443/x" {
		t.Fatalf("URI %q", got)
	}
	if again, _ := in.CuratorJSON(); string(again) != curatorJSON {
		t.Fatalf("herd re-serialized Curator's instance as\n%s\nCurator wrote\n%s", again, curatorJSON)
	}
	prov, err := d.NewProvider("svc", discovery.Sticky(discovery.Random()))
	if err != nil {
		t.Fatal(err)
	}
	defer prov.Close()
	if err := prov.Start(); err != nil {
		t.Fatal(err)
	}
	if err := prov.AwaitInitialized(ctx); err != nil {
		t.Fatal(err)
	}
	if picked, err := prov.Instance(); err != nil || picked.ID != "java-1" {
		t.Fatalf("provider picked %+v, %v", picked, err)
	}
	p.release()
	p.next("discoveryRegister")
	p.wait()
	eventuallyMore(t, "Curator's instance gone", func() bool { return len(prov.Instances()) == 0 })
}

// curatorCacheSameState: a Curator CuratorCache and a herd tree cache over
// one subtree, with changes from herd in between, end in the same state.
func curatorCacheSameState(t *testing.T, tg Target, java javaFunc) {
	ctx := driverContext(t)
	root := "/more/cache"
	w := moreClient(t, tg.Addr)
	for _, p := range []string{root, root + "/a", root + "/a/x", root + "/b"} {
		if _, err := w.Create(ctx, p, []byte("init"), framework.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
	tree, err := cache.NewTree(moreClient(t, tg.Addr), root)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if err := tree.Start(); err != nil {
		t.Fatal(err)
	}
	if err := tree.AwaitInitialized(ctx); err != nil {
		t.Fatal(err)
	}
	p := java(t, "cache", root, "end")
	p.next("cache:ready")
	p.release()
	for i := 0; i < 30; i++ {
		q := fmt.Sprintf("%s/%c/n%d", root, "ab"[i%2], i%7)
		var err error
		switch i % 4 {
		case 0, 1:
			_, err = w.Create(ctx, q, []byte(fmt.Sprint(i)))
		case 2:
			_, err = w.Set(ctx, root+"/a/x", []byte(fmt.Sprint(i)))
		case 3:
			err = w.Delete(ctx, fmt.Sprintf("%s/%c/n%d", root, "ab"[(i-3)%2], (i-3)%7), framework.Quietly())
		}
		if err != nil && !strings.Contains(err.Error(), "node already exists") {
			t.Fatal(err)
		}
	}
	if _, err := w.Set(ctx, root, []byte("end")); err != nil {
		t.Fatal(err)
	}
	curatorDump := p.next("cache").Data
	p.wait()
	eventuallyMore(t, "herd's cache sees the marker", func() bool {
		n, ok := tree.Get(root)
		return ok && string(n.Data) == "end"
	})
	var lines []string
	for _, n := range tree.Nodes() {
		lines = append(lines, fmt.Sprintf("%s %d %d %x", n.Path, n.Stat.Czxid, n.Stat.Mzxid, n.Data))
	}
	sort.Strings(lines)
	herdDump := strings.Join(lines, "\n") + "\n"
	if herdDump != curatorDump {
		t.Fatalf("caches differ:\nherd:\n%s\nCurator:\n%s", herdDump, curatorDump)
	}
}

// TestKazooCounterInterop: kazoo's Counter(support_curator=True) reads herd's
// SharedCount, and both add at once to an exact total.
func TestKazooCounterInterop(t *testing.T) {
	zkpeer.Require(t, kazooPython, kazooModule)
	script := filepath.Join(peersDir(t), "kazoo_counter.py")
	for _, tg := range targets(t, TargetOptions{}) {
		t.Run(tg.Name, func(t *testing.T) {
			ctx := driverContext(t)
			path := "/more/kazoo-counter"
			s, err := counter.NewSharedCount(moreClient(t, tg.Addr), path, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.SetCount(ctx, 7); err != nil {
				t.Fatal(err)
			}
			p := startPeer(t, kazooPython, script, tg.Addr, "read", path, "7")
			p.next("read")
			p.wait()
			p = startPeer(t, kazooPython, script, tg.Addr, "add", path, "30")
			if err := incrementShared(ctx, s, 30); err != nil {
				t.Fatal(err)
			}
			p.next("add")
			p.wait()
			eventuallyMore(t, "67", func() bool { return s.Count() == 67 })
			p = startPeer(t, kazooPython, script, tg.Addr, "read", path, "67")
			p.next("read")
			p.wait()
		})
	}
}
