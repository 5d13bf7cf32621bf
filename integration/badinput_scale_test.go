//go:build !interop

package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// TestBadInputAtScale is a fuzz test of the whole request path on a
// cluster: many connections at once send a random mix of valid requests
// (under /fuzz), valid requests with flipped, cut or extended bytes, frames
// of random bytes, bad lengths and requests before the handshake, to every
// node. Meanwhile a well-behaved client keeps a tree under /model (readable
// and writable by it alone) in step with a model. Afterwards every node must
// still run (a panic ends the test binary), have been serving the
// well-behaved client throughout (every one of its requests succeeded), and
// hold exactly the model under /model.
func TestBadInputAtScale(t *testing.T) {
	c := herdtest.StartCluster(t, 3)
	seed := *nemesisSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	good, err := wireclient.NewSession(ctx, c.ConnectString(), wireclient.SessionOptions{Options: wireclient.Options{SessionTimeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close(context.Background())
	if err := good.AddAuth(ctx, "digest", []byte("good:secret")); err != nil {
		t.Fatal(err)
	}
	if _, err := good.Create(ctx, "/model", nil, proto.CreatorAllACL, proto.ModePersistent, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := good.Create(ctx, "/fuzz", nil, proto.OpenACLUnsafe, proto.ModePersistent, 0); err != nil {
		t.Fatal(err)
	}

	fuzzCtx, stopFuzz := context.WithTimeout(ctx, 5*time.Second)
	defer stopFuzz()
	var (
		wg     sync.WaitGroup
		frames atomic.Int64
		conns  atomic.Int64
	)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &fuzzer{rng: rand.New(rand.NewPCG(seed, uint64(g))), addrs: c.Addrs()}
			for fuzzCtx.Err() == nil {
				frames.Add(int64(f.connection(fuzzCtx)))
				conns.Add(1)
			}
		}()
	}

	// The well-behaved client, while the fuzzers run.
	model := map[string]string{}
	rng := rand.New(rand.NewPCG(seed, 0x900d))
	goodOps := 0
	for fuzzCtx.Err() == nil {
		p := fmt.Sprintf("/model/k%d", rng.IntN(20))
		v := fmt.Sprintf("v%d", goodOps)
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		_, exists := model[p]
		switch {
		case !exists:
			_, err = good.Create(octx, p, []byte(v), proto.CreatorAllACL, proto.ModePersistent, 0)
			model[p] = v
		case rng.IntN(3) == 0:
			err = good.Delete(octx, p, -1)
			delete(model, p)
		default:
			_, err = good.Set(octx, p, []byte(v), -1)
			model[p] = v
		}
		cancel()
		if err != nil {
			t.Fatalf("the well-behaved client was not served (op %d on %s): %v", goodOps, p, err)
		}
		goodOps++
	}
	wg.Wait()
	t.Logf("%d fuzz connections sent %d frames; the well-behaved client made %d requests", conns.Load(), frames.Load(), goodOps)

	for _, n := range c.Nodes {
		if !n.Running() {
			t.Fatalf("node %d stopped", n.ID)
		}
	}
	if err := c.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	want := make([]string, 0, len(model))
	for p := range model {
		want = append(want, p[len("/model/"):])
	}
	sort.Strings(want)
	for _, n := range c.Nodes {
		s, err := wireclient.NewSession(ctx, n.Addr, wireclient.SessionOptions{})
		if err != nil {
			t.Fatalf("node %d: %v", n.ID, err)
		}
		if err := s.AddAuth(ctx, "digest", []byte("good:secret")); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.Children(ctx, "/model", false)
		if err != nil {
			t.Fatalf("node %d: children: %v", n.ID, err)
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("node %d: /model holds %v, the model %v", n.ID, got, want)
		}
		for _, k := range got {
			data, _, err := s.Get(ctx, "/model/"+k, false)
			if err != nil || string(data) != model["/model/"+k] {
				t.Fatalf("node %d: /model/%s = %q (%v), the model %q", n.ID, k, data, err, model["/model/"+k])
			}
		}
		_ = s.Close(ctx)
	}
}

// fuzzer sends random traffic, one connection at a time.
type fuzzer struct {
	rng   *rand.Rand
	addrs []string
	xid   int32
}

// fuzzOps are the opcodes fuzzed requests carry. Reconfig is left out: a
// random body that happened to decode would change the membership, which is
// not a fault this test is about.
var fuzzOps = []proto.OpCode{proto.OpCreate, proto.OpDelete, proto.OpExists, proto.OpGetData, proto.OpSetData,
	proto.OpGetACL, proto.OpSetACL, proto.OpGetChildren, proto.OpSync, proto.OpPing, proto.OpGetChildren2,
	proto.OpCheck, proto.OpMulti, proto.OpCreate2, proto.OpCheckWatches, proto.OpRemoveWatches,
	proto.OpCreateContainer, proto.OpDeleteContainer, proto.OpCreateTTL, proto.OpMultiRead, proto.OpAuth,
	proto.OpSetWatches, proto.OpSASL, proto.OpGetEphemerals, proto.OpGetAllChildrenNumber, proto.OpSetWatches2,
	proto.OpAddWatch, proto.OpWhoAmI, proto.OpCloseSession, 0, 55, -7, 1000}

// connection runs one connection: an optional handshake, then up to 30
// frames, reading whatever comes back, until the server closes it. It
// returns how many frames it sent.
func (f *fuzzer) connection(ctx context.Context) int {
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	c, err := wireclient.DialRaw(dctx, f.addrs[f.rng.IntN(len(f.addrs))])
	cancel()
	if err != nil {
		return 0
	}
	defer c.Close()
	// Drain replies so the server never blocks on a full socket.
	go func() {
		for {
			if _, err := c.ReadFrame(); err != nil {
				return
			}
		}
	}()
	if f.rng.IntN(8) != 0 {
		if err := c.Send(&proto.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}); err != nil {
			return 0
		}
	}
	sent := 0
	for range 1 + f.rng.IntN(30) {
		if ctx.Err() != nil {
			break
		}
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(f.frame()); err != nil {
			break
		}
		sent++
	}
	return sent
}

// frame makes one frame: a valid request, a damaged one, or noise.
func (f *fuzzer) frame() []byte {
	f.xid++
	op := fuzzOps[f.rng.IntN(len(fuzzOps))]
	var e proto.Encoder
	start := e.StartFrame()
	(&proto.RequestHeader{Xid: f.xid, Op: op}).Encode(&e)
	f.body(&e, op)
	e.EndFrame(start)
	b := e.Bytes()
	switch f.rng.IntN(6) {
	case 0, 1: // valid
	case 2: // flipped bytes after the length
		for range 1 + f.rng.IntN(4) {
			if len(b) > 4 {
				b[4+f.rng.IntN(len(b)-4)] ^= byte(1 + f.rng.IntN(255))
			}
		}
	case 3: // cut short, length fixed up
		if len(b) > 8 {
			b = b[:8+f.rng.IntN(len(b)-8)]
			fixLength(b)
		}
	case 4: // random bytes appended, length fixed up
		for range f.rng.IntN(64) {
			b = append(b, byte(f.rng.Uint32()))
		}
		fixLength(b)
	default: // noise, with a length that may lie
		b = make([]byte, 4+f.rng.IntN(64))
		for i := range b {
			b[i] = byte(f.rng.Uint32())
		}
		if f.rng.IntN(2) == 0 {
			fixLength(b)
		}
	}
	return b
}

func fixLength(b []byte) {
	n := len(b) - 4
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

// body encodes a plausible body for op, on paths under /fuzz (or bad ones).
func (f *fuzzer) body(e *proto.Encoder, op proto.OpCode) {
	paths := []string{"/fuzz", "/fuzz/a", "/fuzz/a/b", "/fuzz/" + string(rune('a'+f.rng.IntN(26))), "fuzz", "/fuzz/", "//fuzz", "/fuzz/\x00", "/zookeeper/quota", ""}
	path := paths[f.rng.IntN(len(paths))]
	data := make([]byte, f.rng.IntN(32))
	switch op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer:
		(&proto.CreateRequest{Path: path, Data: data, ACL: proto.OpenACLUnsafe, Flags: proto.CreateMode(f.rng.IntN(8) - 1)}).Encode(e)
	case proto.OpCreateTTL:
		(&proto.CreateRequest{Path: path, Data: data, ACL: proto.OpenACLUnsafe, Flags: proto.CreateMode(f.rng.IntN(8))}).Encode(e)
		e.Int64(int64(f.rng.IntN(5000)) - 100)
	case proto.OpDelete, proto.OpDeleteContainer:
		(&proto.DeleteRequest{Path: path, Version: int32(f.rng.IntN(3)) - 1}).Encode(e)
	case proto.OpSetData:
		(&proto.SetDataRequest{Path: path, Data: data, Version: int32(f.rng.IntN(3)) - 1}).Encode(e)
	case proto.OpSetACL:
		e.String(path)
		e.ACLs(proto.OpenACLUnsafe)
		e.Int32(-1)
	case proto.OpCheck:
		e.String(path)
		e.Int32(int32(f.rng.IntN(3)) - 1)
	case proto.OpSetWatches:
		(&proto.SetWatches{RelativeZxid: int64(f.rng.Uint32()), Data: []string{path}, Exist: []string{path}, Child: []string{path}}).Encode(e)
	case proto.OpMulti, proto.OpMultiRead:
		for range f.rng.IntN(4) {
			e.Int32(int32(fuzzOps[f.rng.IntN(5)]))
			e.Bool(false)
			e.Int32(-1)
			(&proto.DeleteRequest{Path: path, Version: -1}).Encode(e)
		}
		e.Int32(-1)
		e.Bool(true)
		e.Int32(-1)
	case proto.OpAuth:
		e.Int32(0)
		e.String([]string{"digest", "world", "ip", "x"}[f.rng.IntN(4)])
		e.Buffer(data)
	case proto.OpAddWatch:
		e.String(path)
		e.Int32(int32(f.rng.IntN(4)) - 1)
	case proto.OpPing, proto.OpCloseSession, proto.OpWhoAmI:
	default:
		(&proto.PathWatchRequest{Path: path, Watch: f.rng.IntN(2) == 0}).Encode(e)
	}
}
