package integration

// A regression test for a bug found by recipes/cache's model tests: a read
// registered its watch under the tree's read lock but queued its reply after
// releasing it, so a write applied in between could send the watch's
// notification before the reply that set it. The client then dropped the
// notification (no watch registered yet) and registered a watch that never
// fired. server/read.go now queues the reply under the lock. Apache ZooKeeper
// passes the same test.

import (
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/zkpeer"
)

// watchSurvivesConcurrentWrites: while three clients keep writing /n, a
// fourth reads it with a watch and then writes it itself; the watch must have
// fired by the time its own write returns (the notification precedes the
// write's reply). A lost watch never fires.
func watchSurvivesConcurrentWrites(t *testing.T, addr string) {
	connect := func() *zk.Conn {
		c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	a := connect()
	if _, err := a.Create("/n", nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		c := connect()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = c.Set("/n", []byte{9}, -1)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	lost := 0
	const rounds = 3000
	for i := 0; i < rounds; i++ {
		_, _, ch, err := a.GetW("/n")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Set("/n", []byte{1}, -1); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		default:
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d watches never fired", lost, rounds)
	}
}

func TestWatchRegisteredByReadSurvivesConcurrentWriteHerd(t *testing.T) {
	watchSurvivesConcurrentWrites(t, herdtest.Start(t).Addr)
}

func TestWatchRegisteredByReadSurvivesConcurrentWriteZooKeeper(t *testing.T) {
	watchSurvivesConcurrentWrites(t, zkpeer.StartT(t, zkpeer.Options{}).Addr)
}
