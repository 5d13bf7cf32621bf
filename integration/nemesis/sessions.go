package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// Sessions is the sessions-and-ephemerals workload.
//
// A survivor session (SurvivorTimeout, longer than any fault lasts) holds an
// ephemeral for the whole run: it must end the run on the same session, with
// its ephemeral, however many leaders came and went.
//
// Mortal owners (Timeout) each create an ephemeral, check it while their
// session lives, and then die (drop the connection without closing the
// session). A watcher polls the ephemeral: it must disappear within
// Timeout+Allowance of the death, and when it disappears the session must
// be gone (re-attaching to it is refused). An owner's ephemeral must never be
// missing while the owner's session answers.
type Sessions struct {
	// Addrs are the servers.
	Addrs []string
	// Root is the parent of the ephemerals; it must exist.
	Root string
	// Timeout is the mortal sessions' timeout; SurvivorTimeout the survivor's.
	Timeout, SurvivorTimeout time.Duration
	// Allowance is added to Timeout for a death's ephemeral to go: a leader
	// change restarts the session clocks.
	Allowance time.Duration
	// Seed seeds the choice of servers.
	Seed uint64

	wg       sync.WaitGroup
	survivor *wireclient.Session
	survID   int64

	mu        sync.Mutex
	bad       []string
	deaths    int
	expired   int // mortals whose session expired under a fault before they died
	checks    int
	slowest   time.Duration // longest death-to-gone time measured
	unmeasure int           // deaths whose gone time the watcher could not measure (it was cut off)
}

func (s *Sessions) violation(format string, args ...any) {
	s.mu.Lock()
	s.bad = append(s.bad, fmt.Sprintf("sessions: "+format, args...))
	s.mu.Unlock()
}

// Start opens the survivor and runs the mortals until ctx ends.
func (s *Sessions) Start(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	surv, err := wireclient.NewSession(sctx, joinAddrs(s.Addrs), wireclient.SessionOptions{Options: wireclient.Options{SessionTimeout: s.SurvivorTimeout}})
	if err != nil {
		return fmt.Errorf("nemesis: survivor: %w", err)
	}
	if _, err := surv.Create(sctx, s.Root+"/survivor", nil, proto.OpenACLUnsafe, proto.ModeEphemeral, 0); err != nil {
		surv.Close(sctx)
		return fmt.Errorf("nemesis: survivor's ephemeral: %w", err)
	}
	s.survivor, s.survID = surv, surv.SessionID()
	watcher, err := wireclient.NewSession(sctx, joinAddrs(s.Addrs), wireclient.SessionOptions{Options: wireclient.Options{SessionTimeout: s.SurvivorTimeout}})
	if err != nil {
		surv.Close(sctx)
		return fmt.Errorf("nemesis: watcher: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = watcher.Close(cctx)
		}()
		rng := rand.New(rand.NewPCG(s.Seed, 0x5e55))
		for n := 0; ctx.Err() == nil; n++ {
			s.mortal(ctx, rng, watcher, fmt.Sprintf("%s/m-%d", s.Root, n))
		}
	}()
	return nil
}

func joinAddrs(addrs []string) string {
	out := ""
	for i, a := range addrs {
		if i > 0 {
			out += ","
		}
		out += a
	}
	return out
}

// mortal runs one owner's life and death.
func (s *Sessions) mortal(ctx context.Context, rng *rand.Rand, watcher *wireclient.Session, path string) {
	opts := wireclient.Options{SessionTimeout: s.Timeout, HandshakeTimeout: s.Timeout / 2}
	dial := func() (*wireclient.Conn, error) {
		dctx, cancel := context.WithTimeout(ctx, s.Timeout)
		defer cancel()
		return wireclient.Dial(dctx, s.Addrs[rng.IntN(len(s.Addrs))], opts)
	}
	owner, err := dial()
	if err != nil {
		return
	}
	opts.SessionID, opts.Passwd = owner.SessionID(), owner.Passwd()
	octx, cancel := context.WithTimeout(ctx, s.Timeout)
	_, err = owner.Do(octx, proto.OpCreate, &proto.CreateRequest{Path: path, ACL: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral}, &proto.CreateResponse{})
	cancel()
	if err != nil {
		owner.Drop() // the create's outcome is unknown; not a death this run measures
		return
	}
	// Alive: the ephemeral is there whenever the session answers.
	for range 10 {
		if ctx.Err() != nil {
			break
		}
		octx, cancel := context.WithTimeout(ctx, s.Timeout)
		_, err := owner.Do(octx, proto.OpSync, &proto.PathRequest{Path: path}, &proto.PathResponse{})
		if err == nil {
			_, err = owner.Do(octx, proto.OpExists, &proto.PathWatchRequest{Path: path}, &proto.StatResponse{})
			if errors.Is(err, proto.ErrNoNode) {
				s.violation("%s is gone while its session %#x answers", path, opts.SessionID)
			}
			s.mu.Lock()
			s.checks++
			s.mu.Unlock()
		}
		cancel()
		if err != nil && !errors.Is(err, proto.ErrNoNode) {
			owner.Drop()
			if owner, err = dial(); err != nil { // re-attach the session elsewhere
				if errors.Is(err, wireclient.ErrSessionExpired) {
					s.mu.Lock()
					s.expired++
					s.mu.Unlock()
				}
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // the owner's pace
	}
	// Death: the connection goes, the session is never closed.
	owner.Drop()
	died := time.Now()
	s.mu.Lock()
	s.deaths++
	s.mu.Unlock()
	failures := 0
	for {
		if ctx.Err() != nil && time.Since(died) > s.Timeout+s.Allowance {
			return
		}
		wctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
		polled := time.Now()
		err := watcher.Sync(wctx, path)
		if err == nil {
			_, err = watcher.Exists(wctx, path, false)
		}
		cancel()
		switch {
		case errors.Is(err, proto.ErrNoNode):
			gone := polled.Sub(died)
			// It is gone: so must the session be.
			dctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
			c, derr := wireclient.Dial(dctx, s.Addrs[rng.IntN(len(s.Addrs))], opts)
			cancel()
			if derr == nil {
				c.Drop()
				s.violation("%s is gone %v after its owner died, yet its session %#x can still be re-attached", path, gone, opts.SessionID)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if failures > 0 {
				s.unmeasure++
				return
			}
			s.slowest = max(s.slowest, gone)
			if gone > s.Timeout+s.Allowance {
				s.bad = append(s.bad, fmt.Sprintf("sessions: %s went %v after its owner died (timeout %v, allowance %v)", path, gone, s.Timeout, s.Allowance))
			}
			return
		case err != nil:
			failures++
		}
		time.Sleep(20 * time.Millisecond) // the watcher's polling pace
	}
}

// Wait stops the mortals and checks the survivor, then closes it.
func (s *Sessions) Wait() {
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer func() { _ = s.survivor.Close(ctx) }()
	if s.survivor.State() == wireclient.Closed {
		s.violation("the survivor session %#x ended", s.survID)
		return
	}
	// The survivor may be between servers right after the last fault.
	var st proto.Stat
	var err error
	for ctx.Err() == nil {
		if st, err = s.survivor.Exists(ctx, s.Root+"/survivor", false); err == nil || !errors.Is(err, wireclient.ErrConnectionLoss) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	switch {
	case err != nil:
		s.violation("the survivor session %#x cannot read its ephemeral: %v", s.survID, err)
	case st.EphemeralOwner != s.survID || s.survivor.SessionID() != s.survID:
		s.violation("the survivor's ephemeral belongs to %#x, its session is %#x, it started as %#x", st.EphemeralOwner, s.survivor.SessionID(), s.survID)
	}
}

// Check returns the violations.
func (s *Sessions) Check() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// Ops is how many checks were made (liveness checks and deaths).
func (s *Sessions) Ops() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checks + s.deaths + 1
}

// Stats is a one-line account of the run.
func (s *Sessions) Stats() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("sessions: survivor %#x kept; %d ephemeral checks while alive, %d deaths (slowest ephemeral gone after %v, %d not timed because the watcher was cut off), %d sessions expired under faults",
		s.survID, s.checks, s.deaths, s.slowest, s.unmeasure, s.expired)
}

// Dump writes the violations into dir.
func (s *Sessions) Dump(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeJSON(filepath.Join(dir, "sessions.json"), s.bad)
}
