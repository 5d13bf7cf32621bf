//go:build interop

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/recipes"
)

// TestCuratorQueueInterop: Curator's SimpleDistributedQueue, DistributedBarrier
// and DistributedDoubleBarrier (peers/CuratorQueuePeer.java) and herd's Queue,
// Barrier and DoubleBarrier work on the same paths, each side in either role,
// against herd and against Apache ZooKeeper.
func TestCuratorQueueInterop(t *testing.T) {
	zkpeer.Require(t, append([]string{"/usr/bin/javac", "/usr/bin/java"}, curatorJars...)...)
	classes := compileQueuePeer(t)
	for _, tg := range []Target{herdTarget(t, TargetOptions{}), zookeeperTarget(t, TargetOptions{})} {
		t.Run(tg.Name, func(t *testing.T) {
			run := func(t *testing.T, args ...string) *queuePeer { return startQueuePeer(t, classes, tg.Addr, args...) }
			t.Run("CuratorProducerHerdTaker", func(t *testing.T) {
				ctx := driverContext(t)
				q := recipes.NewQueue(recipeClient(t, tg.Addr), "/interop/q1")
				const n = 40
				got := make(chan string, n)
				go func() { // waiting before the queue exists
					defer close(got)
					for range n {
						data, err := q.Take(ctx)
						if err != nil {
							got <- "error: " + err.Error()
							return
						}
						got <- string(data)
					}
				}()
				p := run(t, "produce", "/interop/q1", fmt.Sprint(n))
				p.expect("produced")
				p.wait()
				i := 0
				for s := range got {
					if want := fmt.Sprintf("item-%d", i); s != want {
						t.Fatalf("herd took %q, want %q", s, want)
					}
					i++
				}
				if i != n {
					t.Fatalf("herd took %d items, want %d", i, n)
				}
			})
			t.Run("HerdProducerCuratorTaker", func(t *testing.T) {
				ctx := driverContext(t)
				q := recipes.NewQueue(recipeClient(t, tg.Addr), "/interop/q2")
				var batch [][]byte
				for i := range 30 {
					if i < 10 {
						if err := q.Put(ctx, fmt.Appendf(nil, "item-%d", i)); err != nil {
							t.Fatal(err)
						}
						continue
					}
					batch = append(batch, fmt.Appendf(nil, "item-%d", i))
				}
				if err := q.PutAll(ctx, batch); err != nil {
					t.Fatal(err)
				}
				// herd takes the head, leaving its receipt node for Curator to skip.
				if data, err := q.Take(ctx); err != nil || string(data) != "item-0" {
					t.Fatalf("herd Take = %q, %v", data, err)
				}
				p := run(t, "take", "/interop/q2", "29@1")
				p.expect("taken")
				p.wait()
				if n, err := q.Len(ctx); err != nil || n != 0 {
					t.Fatalf("Len after Curator took the rest = %d, %v", n, err)
				}
			})
			t.Run("CuratorSetsHerdWaits", func(t *testing.T) {
				ctx := driverContext(t)
				p := run(t, "hold", "/interop/b1")
				p.expect("set")
				b := recipes.NewBarrier(recipeClient(t, tg.Addr), "/interop/b1")
				released := make(chan error, 1)
				go func() { released <- b.Wait(ctx) }()
				select {
				case err := <-released:
					t.Fatalf("herd passed Curator's barrier: %v", err)
				default:
				}
				p.send("remove")
				p.expect("removed")
				if err := <-released; err != nil {
					t.Fatal(err)
				}
				p.wait()
			})
			t.Run("HerdSetsCuratorWaits", func(t *testing.T) {
				ctx := driverContext(t)
				b := recipes.NewBarrier(recipeClient(t, tg.Addr), "/interop/b2")
				if err := b.Set(ctx); err != nil {
					t.Fatal(err)
				}
				p := run(t, "wait", "/interop/b2")
				p.expect("waiting")
				if err := b.Remove(ctx); err != nil {
					t.Fatal(err)
				}
				p.expect("released")
				p.wait()
			})
			t.Run("DoubleBarrier", func(t *testing.T) {
				// Three members: two herd, one Curator.
				ctx := driverContext(t)
				errs := make(chan error, 2)
				entered := make(chan struct{}, 2)
				for i := range 2 {
					d := recipes.NewDoubleBarrier(recipeClient(t, tg.Addr), "/interop/d", fmt.Sprintf("herd-%d", i), 3)
					go func() {
						if err := d.Enter(ctx); err != nil {
							errs <- fmt.Errorf("enter: %w", err)
							return
						}
						entered <- struct{}{}
						if err := d.Leave(ctx); err != nil {
							errs <- fmt.Errorf("leave: %w", err)
							return
						}
						errs <- nil
					}()
				}
				select {
				case <-entered:
					t.Fatal("a herd member entered with two of three members")
				case err := <-errs:
					t.Fatal(err)
				default:
				}
				p := run(t, "double", "/interop/d", "3")
				p.expect("entered")
				p.expect("left")
				p.wait()
				for range 2 {
					if err := <-errs; err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}

// compileQueuePeer compiles peers/CuratorQueuePeer.java and returns the class directory.
func compileQueuePeer(t *testing.T) string {
	t.Helper()
	classes := t.TempDir()
	args := []string{"-d", classes, "-cp", strings.Join(curatorJars, ":"), "-nowarn"}
	for _, f := range jvmQuick {
		args = append(args, "-J"+f)
	}
	args = append(args, filepath.Join(peersDir(t), "CuratorQueuePeer.java"))
	if out, err := exec.CommandContext(driverContext(t), "javac", args...).CombinedOutput(); err != nil {
		t.Fatalf("javac CuratorQueuePeer.java: %v\n%s", err, out)
	}
	return classes
}

// recipeClient is a framework client for addr, closed at test end.
func recipeClient(t *testing.T, addr string) *framework.Client {
	t.Helper()
	c, err := framework.New(addr, framework.WithSessionTimeout(10*time.Second),
		framework.WithRetryPolicy(framework.RetryNTimes(20, 50*time.Millisecond)),
		framework.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.BlockUntilConnected(driverContext(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

// queuePeer is one running CuratorQueuePeer, read event by event.
type queuePeer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan queueEvent
	done   chan struct{} // closed when stdout is drained
	stderr lockedBuffer
}

// lockedBuffer collects a process's stderr while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type queueEvent struct {
	Event string `json:"event"`
	Error string `json:"error"`
}

func startQueuePeer(t *testing.T, classes, addr string, args ...string) *queuePeer {
	t.Helper()
	cmdArgs := append(append([]string{}, jvmQuick...), "-cp", classes+":"+strings.Join(curatorJars, ":"), "CuratorQueuePeer", addr)
	cmd := exec.CommandContext(driverContext(t), "java", append(cmdArgs, args...)...)
	p := &queuePeer{t: t, cmd: cmd, events: make(chan queueEvent, 16), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		defer close(p.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev queueEvent
			if json.Unmarshal([]byte(sc.Text()), &ev) == nil && ev.Event != "" {
				p.events <- ev
			}
		}
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		_ = cmd.Process.Kill()
		<-p.done
		_ = cmd.Wait()
	})
	return p
}

// expect reads the peer's next event and fails the test unless it is name.
func (p *queuePeer) expect(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), driverTimeout)
	defer cancel()
	select {
	case ev, ok := <-p.events:
		switch {
		case !ok:
			p.t.Fatalf("peer exited before %q\n%s", name, tail(p.stderr.String(), 4000))
		case ev.Event == "error":
			p.t.Fatalf("peer failed waiting for %q: %s\n%s", name, ev.Error, tail(p.stderr.String(), 4000))
		case ev.Event != name:
			p.t.Fatalf("peer event %q, want %q", ev.Event, name)
		}
	case <-ctx.Done():
		p.t.Fatalf("timed out waiting for peer event %q", name)
	}
}

// send writes a line to the peer's stdin.
func (p *queuePeer) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the peer to exit cleanly.
func (p *queuePeer) wait() {
	p.t.Helper()
	_ = p.stdin.Close()
	<-p.done
	if err := p.cmd.Wait(); err != nil {
		p.t.Fatalf("peer exited with %v\n%s", err, tail(p.stderr.String(), 4000))
	}
}
