package nemesis

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes"
)

// FencedResource is the resource a lock guards: it remembers the largest
// fencing token that acted on it and refuses any lower one, as a storage
// system that honours lock tokens would.
type FencedResource struct {
	mu       sync.Mutex
	highest  int64
	accepted int
	rejected int
}

// Act is one action by the holder of token; it reports whether the resource
// accepted it.
func (r *FencedResource) Act(token int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if token < r.highest {
		r.rejected++
		return false
	}
	r.highest = token
	r.accepted++
	return true
}

// lockHold is one acquisition of the lock, as its holder saw it.
type lockHold struct {
	Worker    int
	Token     int64
	Called    time.Time // Lock called
	Acquired  time.Time // Lock returned
	Released  time.Time // Unlock called (or the hold found lost)
	Actions   int
	Rejected  int  // actions the resource refused
	Clean     bool // the hold was never lost and Unlock succeeded on the same session
	SessionID int64
}

// Locks is the lock workload: Workers workers, each with its own client,
// take a recipes.NewLock on Path in turn, and while holding it act on a
// FencedResource with the lock's token.
type Locks struct {
	// Connect is the servers' connect string.
	Connect string
	// Path is the lock's path.
	Path string
	// Workers is how many clients contend.
	Workers int
	// SessionTimeout is the clients' session timeout.
	SessionTimeout time.Duration
	// Actions is how many actions each hold does.
	Actions int

	res   FencedResource
	wg    sync.WaitGroup
	mu    sync.Mutex
	holds []lockHold
}

// Start runs the workers until ctx ends.
func (l *Locks) Start(ctx context.Context) error {
	var clients []*framework.Client
	for range l.Workers {
		c, err := framework.New(l.Connect, framework.WithSessionTimeout(l.SessionTimeout),
			framework.WithConnectionTimeout(l.SessionTimeout), framework.WithRetryPolicy(framework.ExponentialBackoff(50*time.Millisecond, 5, time.Second)))
		if err != nil {
			for _, c := range clients {
				c.Close()
			}
			return fmt.Errorf("nemesis: lock client: %w", err)
		}
		clients = append(clients, c)
	}
	for id, c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer c.Close()
			l.worker(ctx, id, c)
		}()
	}
	return nil
}

// Wait waits for the workers to stop.
func (l *Locks) Wait() { l.wg.Wait() }

func (l *Locks) worker(ctx context.Context, id int, c *framework.Client) {
	m := recipes.NewLock(c, l.Path)
	for ctx.Err() == nil {
		h := lockHold{Worker: id, Called: time.Now()}
		lctx, cancel := context.WithTimeout(ctx, 4*l.SessionTimeout)
		err := m.Lock(lctx)
		cancel()
		if err != nil {
			continue
		}
		h.Acquired, h.Token, h.SessionID = time.Now(), m.Token(), c.SessionID()
		lost := m.Lost()
		for range l.Actions {
			select {
			case <-lost:
			default:
				h.Actions++
				if !l.res.Act(h.Token) {
					h.Rejected++
				}
				time.Sleep(2 * time.Millisecond) // the work done under the lock
				continue
			}
			break
		}
		h.Released = time.Now()
		wasLost := false
		select {
		case <-lost:
			wasLost = true
		default:
		}
		uctx, cancel := context.WithTimeout(context.Background(), 2*l.SessionTimeout)
		err = m.Unlock(uctx)
		cancel()
		h.Clean = !wasLost && err == nil && c.SessionID() == h.SessionID
		l.mu.Lock()
		l.holds = append(l.holds, h)
		l.mu.Unlock()
	}
}

// Stats is a one-line account of the run.
func (l *Locks) Stats() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	clean := 0
	for _, h := range l.holds {
		if h.Clean {
			clean++
		}
	}
	l.res.mu.Lock()
	defer l.res.mu.Unlock()
	return fmt.Sprintf("lock: %d holds (%d clean), %d actions accepted, %d refused by fencing", len(l.holds), clean, l.res.accepted, l.res.rejected)
}

// Ops is how many holds were checked.
func (l *Locks) Ops() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.holds)
}

// Check checks the holds: tokens are unique and increase with real-time
// order (a hold acquired before another's Lock was called has the smaller
// token), no two clean holds overlap in time, and the resource never
// refused a clean hold (only a holder that lost the lock may be fenced).
func (l *Locks) Check() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return checkLockHolds(l.holds)
}

func checkLockHolds(holds []lockHold) []string {
	var bad []string
	hs := append([]lockHold(nil), holds...)
	sort.Slice(hs, func(i, j int) bool { return hs[i].Acquired.Before(hs[j].Acquired) })
	// prefixMax[i] is the largest token among hs[:i].
	prefixMax := make([]int64, len(hs)+1)
	for i, h := range hs {
		prefixMax[i+1] = max(prefixMax[i], h.Token)
	}
	tokens := map[int64]int{}
	var lastClean *lockHold
	for i := range hs {
		b := &hs[i]
		if j, dup := tokens[b.Token]; dup {
			bad = append(bad, fmt.Sprintf("lock: workers %d and %d both held token %#x", hs[j].Worker, b.Worker, b.Token))
		}
		tokens[b.Token] = i
		if b.Clean && b.Rejected > 0 {
			bad = append(bad, fmt.Sprintf("lock: the resource refused %d actions of worker %d's clean hold (token %#x)", b.Rejected, b.Worker, b.Token))
		}
		// Every hold acquired before b called Lock has a smaller token.
		before := sort.Search(len(hs), func(k int) bool { return !hs[k].Acquired.Before(b.Called) })
		if prefixMax[before] >= b.Token {
			bad = append(bad, fmt.Sprintf("lock: worker %d's token %#x is not above the token %#x of a hold acquired before it called Lock",
				b.Worker, b.Token, prefixMax[before]))
		}
		if !b.Clean {
			continue
		}
		if lastClean != nil && b.Acquired.Before(lastClean.Released) {
			bad = append(bad, fmt.Sprintf("lock: workers %d (token %#x) and %d (token %#x) held the lock at once: %v..%v and %v..%v",
				lastClean.Worker, lastClean.Token, b.Worker, b.Token, lastClean.Acquired.Format(time.StampMicro), lastClean.Released.Format(time.StampMicro),
				b.Acquired.Format(time.StampMicro), b.Released.Format(time.StampMicro)))
		}
		if lastClean == nil || b.Released.After(lastClean.Released) {
			lastClean = b
		}
	}
	return bad
}

// Dump writes the holds into dir.
func (l *Locks) Dump(dir string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return writeJSON(filepath.Join(dir, "lock-holds.json"), l.holds)
}
