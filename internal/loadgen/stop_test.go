package loadgen

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
)

// TestServerDiesMidRun checks that a run still ends, close to its Duration
// plus the session-timeout grace, when the server disappears under it.
func TestServerDiesMidRun(t *testing.T) {
	peer := zkpeer.StartT(t, zkpeer.Options{})
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	const duration, grace = 2 * time.Second, time.Second
	start := time.Now()
	go func() {
		res, err := Run(context.Background(), Config{Servers: []string{peer.Addr}, Workload: WorkloadSetData,
			Conns: 1, Goroutines: 24, Duration: duration, SessionTimeout: grace}, nil)
		done <- outcome{res, err}
	}()
	// Kill the server once the run is under way.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for running := false; !running; {
		select {
		case <-tick.C:
			out, _ := zkpeer.FourLetter(peer.Addr, "srvr", time.Second)
			running = receivedOver(out, 200)
		case <-deadline:
			t.Fatal("the run never started")
		}
	}
	peer.Stop()
	select {
	case o := <-done:
		if o.err == nil || o.res.Ops == 0 {
			t.Errorf("Run = %+v, %v; want some ops and an error", o.res, o.err)
		}
		if el := time.Since(start); el > duration+3*grace+5*time.Second {
			t.Errorf("Run took %v", el)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not end after the server died")
	}
}

func receivedOver(srvr string, n int) bool {
	_, rest, ok := strings.Cut(srvr, "Received: ")
	if !ok {
		return false
	}
	num, _, _ := strings.Cut(rest, "\n")
	v, err := strconv.Atoi(num)
	return err == nil && v > n
}
