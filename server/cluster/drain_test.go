package cluster

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestStopAnswersEveryQueuedProposal: a leader whose disk is slow has
// hundreds of appends on their way through raft when it is killed; every
// one of them is answered (applied or failed), and the stop returns. (It
// does not reproduce the hang the drain fixed, which the nemesis met after
// 20-50 leader kills; it holds the promise the drain exists for.)
func TestStopAnswersEveryQueuedProposal(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitReady()
	// Each log write takes this long, so proposals pile up behind it.
	leader.faults.SlowDisk(100 * time.Millisecond)
	node := leader.node // stop clears leader.node

	const proposers, each = 4, 400
	var mu sync.Mutex
	var props []*Proposal
	var wg sync.WaitGroup
	for g := range proposers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p := node.Propose([]byte(fmt.Sprintf("queued-%d-%d", g, i)))
				mu.Lock()
				props = append(props, p)
				mu.Unlock()
			}
		}()
	}
	// Stop once raft's apply queue (MaxAppendEntries deep) is likely full.
	eventually(t, "proposals to queue behind the slow disk", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(props) >= 600
	})
	stopped := make(chan struct{})
	go func() {
		leader.stop()
		close(stopped)
	}()
	wg.Wait() // once stopped, Propose fails at once
	// Far longer than a stop needs (the drain waits at most drainWait).
	deadline := time.After(3 * drainWait)
	unanswered := 0
	for _, p := range props {
		select {
		case <-p.done:
		case <-deadline:
			unanswered++
		}
	}
	if unanswered > 0 {
		t.Fatalf("%d of %d proposals were never answered", unanswered, len(props))
	}
	select {
	case <-stopped:
	case <-deadline:
		t.Fatal("the stop did not return")
	}
}
