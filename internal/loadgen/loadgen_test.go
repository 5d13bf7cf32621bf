package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap/zaptest"

	"github.com/herd-io/herd/internal/zkpeer"
)

func connectT(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitSession(ctx, events, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAgainstZooKeeper(t *testing.T) {
	peer := zkpeer.StartT(t, zkpeer.Options{})
	check := connectT(t, peer.Addr)
	if _, err := check.Create("/keep", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	for _, w := range Workloads {
		t.Run(string(w), func(t *testing.T) {
			prefix := "/lg-" + string(w) + "/deeper"
			res, err := Run(context.Background(), Config{Servers: []string{peer.Addr}, Workload: w, Conns: 2,
				Goroutines: 3, Ops: 200, ValueSize: 100, KeyPrefix: prefix}, zaptest.NewLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			if res.Ops != 200 || res.Errors != 0 || res.OpsPerSec <= 0 || res.P50 <= 0 || res.P99 < res.P50 ||
				res.Max < res.P99 || res.Min > res.P50 || res.Workload != w {
				t.Errorf("result %+v", res)
			}
			// Everything the run made is gone, including the prefix it created.
			if ok, _, err := check.Exists("/lg-" + string(w)); err != nil || ok {
				t.Errorf("prefix left behind: %v %v", ok, err)
			}
		})
	}
	t.Run("duration", func(t *testing.T) {
		res, err := Run(context.Background(), Config{Servers: []string{peer.Addr}, Workload: WorkloadGetData,
			Duration: 150 * time.Millisecond, KeyPrefix: "/keep/sub"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ops == 0 || res.Elapsed < 150*time.Millisecond || res.Elapsed > 5*time.Second {
			t.Errorf("result %+v", res)
		}
		// A prefix that existed before the run stays.
		if ok, _, _ := check.Exists("/keep"); !ok {
			t.Error("/keep deleted")
		}
		if ok, _, _ := check.Exists("/keep/sub"); ok {
			t.Error("/keep/sub left behind")
		}
	})
	t.Run("measure", func(t *testing.T) {
		// Measure brackets the timed phase: true before the first operation,
		// false after the last, once each.
		var calls []bool
		res, err := Run(context.Background(), Config{Servers: []string{peer.Addr}, Workload: WorkloadGetData,
			Ops: 20, Measure: func(start bool) { calls = append(calls, start) }}, nil)
		if err != nil || res.Ops != 20 || len(calls) != 2 || !calls[0] || calls[1] {
			t.Errorf("Run = %+v, %v; Measure calls %v", res, err, calls)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := Run(ctx, Config{Servers: []string{peer.Addr}, Workload: WorkloadCreate, Ops: 100}, nil)
		if err == nil {
			t.Errorf("Run with a cancelled context = %+v, nil", res)
		}
	})
}
