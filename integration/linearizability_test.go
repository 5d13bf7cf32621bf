package integration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cenkalti/backoff/v4"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/faultproxy"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// registerOp is one read or write of the register /lin.
type registerOp struct {
	write bool
	value string
}

// registerModel is a single register: a read returns the last value written.
var registerModel = porcupine.Model{
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in := input.(registerOp)
		if in.write {
			return true, in.value
		}
		return output.(string) == state.(string), state
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(registerOp)
		if in.write {
			return fmt.Sprintf("set(%q)", in.value)
		}
		return fmt.Sprintf("get() -> %q", output)
	},
}

// TestLinearizableUnderFaults has concurrent clients read and write one znode
// while their connections are cut every 60 operations and the server restarts
// once, and checks the history with porcupine: every acknowledged write
// survives, and every read returns a value some linearization allows. A write
// whose reply was lost may or may not have happened; porcupine is told so.
func TestLinearizableUnderFaults(t *testing.T) {
	srv := herdtest.Start(t)
	px, err := faultproxy.New(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	setup := dialRetry(ctx, t, srv.Addr)
	if _, err := setup.Do(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/lin", Data: []byte(""), ACL: proto.OpenACLUnsafe}, &proto.CreateResponse{}); err != nil {
		t.Fatal(err)
	}
	setup.Drop()

	const clients, opsPerClient = 4, 120
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		done    atomic.Int64
		unknown atomic.Int64
		restart = make(chan struct{})
		wg      sync.WaitGroup
	)
	record := func(op porcupine.Operation) {
		mu.Lock()
		history = append(history, op)
		mu.Unlock()
	}
	for id := 0; id < clients; id++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			var c *wireclient.Conn
			defer func() {
				if c != nil {
					c.Drop()
				}
			}()
			for n := 0; n < opsPerClient && ctx.Err() == nil; n++ {
				if c == nil {
					if c = dialRetry(ctx, t, px.Addr()); c == nil {
						return
					}
				}
				if rng.IntN(2) == 0 {
					v := fmt.Sprintf("%d-%d", id, n)
					call := now()
					_, err := c.Do(ctx, proto.OpSetData, &proto.SetDataRequest{Path: "/lin", Data: []byte(v), Version: -1}, &proto.StatResponse{})
					ret := now()
					if err != nil {
						if !errors.Is(err, wireclient.ErrConnectionLoss) {
							t.Errorf("client %d set: %v", id, err)
							return
						}
						ret = math.MaxInt64 // the outcome is unknown
						unknown.Add(1)
						c.Drop()
						c = nil
					}
					record(porcupine.Operation{ClientId: id, Input: registerOp{write: true, value: v}, Call: call, Return: ret})
				} else {
					var resp proto.GetDataResponse
					call := now()
					_, err := c.Do(ctx, proto.OpGetData, &proto.PathWatchRequest{Path: "/lin"}, &resp)
					ret := now()
					if err != nil {
						if !errors.Is(err, wireclient.ErrConnectionLoss) {
							t.Errorf("client %d get: %v", id, err)
							return
						}
						// A read that got no answer constrains nothing.
						c.Drop()
						c = nil
					} else {
						record(porcupine.Operation{ClientId: id, Input: registerOp{}, Output: string(resp.Data), Call: call, Return: ret})
					}
				}
				switch d := done.Add(1); {
				case d == clients*opsPerClient/2:
					close(restart)
				case d%60 == 0:
					px.Cut()
				}
			}
		}(id)
	}
	select {
	case <-restart:
		srv.Restart()
	case <-ctx.Done():
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if ctx.Err() != nil {
		t.Fatalf("clients did not finish: %v", ctx.Err())
	}
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, 60*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("history of %d operations is not linearizable (%v): %v", len(history), res, info.PartialLinearizations())
	}
	t.Logf("%d operations linearizable (%d writes with unknown outcome, %d connections accepted by the proxy)",
		len(history), unknown.Load(), px.Accepted())
}

// dialRetry opens a session, retrying while the server restarts. It returns nil
// (after failing t) when ctx ends first.
func dialRetry(ctx context.Context, t testing.TB, addr string) *wireclient.Conn {
	var c *wireclient.Conn
	b := backoff.WithContext(backoff.NewExponentialBackOff(backoff.WithInitialInterval(10*time.Millisecond),
		backoff.WithMaxInterval(200*time.Millisecond), backoff.WithMaxElapsedTime(0)), ctx)
	err := backoff.Retry(func() error {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var err error
		c, err = wireclient.Dial(dctx, addr, wireclient.Options{})
		return err
	}, b)
	if err != nil {
		t.Errorf("dial %s: %v", addr, err)
		return nil
	}
	return c
}

// TestRegisterModelRejectsStaleRead proves the checker above can fail: a read
// that returns an older value after a newer write was acknowledged is not
// linearizable.
func TestRegisterModelRejectsStaleRead(t *testing.T) {
	w := func(v string, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: registerOp{write: true, value: v}, Call: call, Return: ret}
	}
	r := func(v string, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: 1, Input: registerOp{}, Output: v, Call: call, Return: ret}
	}
	good := []porcupine.Operation{w("a", 0, 1), w("b", 2, 3), r("b", 4, 5)}
	if !porcupine.CheckOperations(registerModel, good) {
		t.Fatal("a valid history was rejected")
	}
	stale := []porcupine.Operation{w("a", 0, 1), w("b", 2, 3), r("a", 4, 5)}
	if porcupine.CheckOperations(registerModel, stale) {
		t.Fatal("a stale read was accepted")
	}
	lost := []porcupine.Operation{w("a", 0, math.MaxInt64), r("", 1, 2), r("a", 3, 4), r("", 5, 6)}
	if porcupine.CheckOperations(registerModel, lost) {
		t.Fatal("a write seen and then unseen was accepted")
	}
}
