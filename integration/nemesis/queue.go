package nemesis

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes"
	"github.com/herd-io/herd/recipes/queue"
)

// delivery is one handler call of the queue workload.
type delivery struct {
	Item      string
	Consumer  int
	SessionID int64 // the consumer's session when the handler ran
	Run       int   // which Consume call of the consumer ran the handler
	At        time.Time
}

// Queue is the WorkQueue workload: a producer puts numbered items while
// Consumers consumers (each its own client) handle them. Checked: every item
// whose Put succeeded is delivered, nothing is delivered that was not put
// (nor one whose Put failed with a known outcome, not ErrMaybeApplied), and an item is delivered twice only if the consumer that had it first
// died: its session ended, or its Consume call returned.
type Queue struct {
	// Connect is the servers' connect string.
	Connect string
	// Path is the queue's path.
	Path string
	// Consumers is how many consumers run; each handles two items at once.
	Consumers int
	// SessionTimeout is the clients' session timeout.
	SessionTimeout time.Duration
	// Logger, if set, receives the consumers' logs.
	Logger *zap.Logger

	producer  *framework.Client
	consumers []*framework.Client
	stopCons  context.CancelFunc
	wg        sync.WaitGroup

	mu         sync.Mutex
	put        map[string]bool   // item -> Put acknowledged (false: failed)
	notPut     map[string]string // items whose Put failed with a known outcome (not put) -> its error
	deliveries []delivery
	sessions   map[int][]int64 // each consumer's sessions, in the order seen
	endSession []int64         // each consumer's session at Drain
	runs       map[int]int     // Consume calls each consumer made
	restarts   []string        // why a Consume call returned early
}

func (q *Queue) client() (*framework.Client, error) {
	return framework.New(q.Connect, framework.WithSessionTimeout(q.SessionTimeout),
		framework.WithConnectionTimeout(q.SessionTimeout), framework.WithRetryPolicy(framework.ExponentialBackoff(50*time.Millisecond, 5, time.Second)))
}

// Start starts the consumers and the producer; the producer stops when
// produce ends, the consumers at Drain.
func (q *Queue) Start(produce context.Context) error {
	q.put, q.notPut, q.sessions, q.runs = map[string]bool{}, map[string]string{}, map[int][]int64{}, map[int]int{}
	var err error
	if q.producer, err = q.client(); err != nil {
		return fmt.Errorf("nemesis: queue producer: %w", err)
	}
	for range q.Consumers {
		c, err := q.client()
		if err != nil {
			q.closeClients()
			return fmt.Errorf("nemesis: queue consumer: %w", err)
		}
		q.consumers = append(q.consumers, c)
	}
	cctx, cancel := context.WithCancel(context.Background())
	q.stopCons = cancel
	for id, c := range q.consumers {
		var opts []queue.Option
		if q.Logger != nil {
			opts = append(opts, queue.WithLogger(q.Logger.Named(fmt.Sprintf("consumer%d", id))))
		}
		wq := recipes.NewWorkQueue(c, q.Path, opts...)
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for run := 0; cctx.Err() == nil; run++ {
				q.mu.Lock()
				q.runs[id] = run
				q.mu.Unlock()
				err := wq.Consume(cctx, 2, func(ctx context.Context, item []byte) error {
					d := delivery{Item: string(item), Consumer: id, SessionID: c.SessionID(), Run: run, At: time.Now()}
					q.mu.Lock()
					q.deliveries = append(q.deliveries, d)
					if s := q.sessions[id]; len(s) == 0 || s[len(s)-1] != d.SessionID {
						q.sessions[id] = append(s, d.SessionID)
					}
					q.mu.Unlock()
					return nil
				})
				if cctx.Err() == nil {
					// Consume gave up: that consumer is gone, and the items it
					// held may be delivered again.
					q.mu.Lock()
					q.restarts = append(q.restarts, fmt.Sprintf("consumer %d run %d: %v", id, run, err))
					q.mu.Unlock()
				}
			}
		}()
	}
	pq := recipes.NewWorkQueue(q.producer, q.Path)
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		for n := 0; produce.Err() == nil; n++ {
			item := fmt.Sprintf("item-%06d", n)
			pctx, cancel := context.WithTimeout(produce, 2*q.SessionTimeout)
			err := pq.Put(pctx, []byte(item))
			cancel()
			q.mu.Lock()
			q.put[item] = err == nil
			if err != nil && !errors.Is(err, framework.ErrMaybeApplied) {
				q.notPut[item] = err.Error()
			}
			q.mu.Unlock()
			time.Sleep(5 * time.Millisecond) // the producer's pace
		}
	}()
	return nil
}

// Drain waits (up to limit) until every acknowledged item was delivered,
// then stops the consumers and closes the clients.
func (q *Queue) Drain(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && len(q.missing()) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	q.mu.Lock()
	for _, c := range q.consumers {
		q.endSession = append(q.endSession, c.SessionID())
	}
	q.mu.Unlock()
	q.stopCons()
	q.closeClients()
	q.wg.Wait()
}

func (q *Queue) closeClients() {
	if q.producer != nil {
		q.producer.Close()
	}
	for _, c := range q.consumers {
		c.Close()
	}
}

func (q *Queue) missing() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	got := map[string]bool{}
	for _, d := range q.deliveries {
		got[d.Item] = true
	}
	var out []string
	for item, acked := range q.put {
		if acked && !got[item] {
			out = append(out, item)
		}
	}
	sort.Strings(out)
	return out
}

// Ops is how many puts and deliveries were checked.
func (q *Queue) Ops() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.put) + len(q.deliveries)
}

// Stats is a one-line account of the run.
func (q *Queue) Stats() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	acked, seen := 0, map[string]int{}
	for _, ok := range q.put {
		if ok {
			acked++
		}
	}
	dups := 0
	for _, d := range q.deliveries {
		if seen[d.Item]++; seen[d.Item] == 2 {
			dups++
		}
	}
	return fmt.Sprintf("queue: %d items put (%d acknowledged, %d known not put, %d unknown), %d deliveries, %d items delivered more than once; Consume returned early %d times %v",
		len(q.put), acked, len(q.notPut), len(q.put)-acked-len(q.notPut), len(q.deliveries), dups, len(q.restarts), q.restarts)
}

// Check checks the run after Drain. dups are the items delivered twice while
// the consumer that had them first lived, returned apart so that a run can
// choose to only log them (HERD_NEMESIS_STRICT=0). They used to come from
// Put: a create whose reply was lost, retried after a consumer had handled
// and deleted the item, made it again; Put's marker (recipes/queue) closes
// that.
func (q *Queue) Check() (bad, dups []string) {
	for _, item := range q.missing() {
		bad = append(bad, fmt.Sprintf("queue: %s was put (acknowledged) and never delivered", item))
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	first := map[string]delivery{}
	for _, d := range q.deliveries {
		if _, ok := q.put[d.Item]; !ok {
			bad = append(bad, fmt.Sprintf("queue: %s was delivered and never put", d.Item))
			continue
		}
		if why, ok := q.notPut[d.Item]; ok {
			bad = append(bad, fmt.Sprintf("queue: %s was delivered, but its Put failed with a known outcome: %s", d.Item, why))
		}
		f, dup := first[d.Item]
		if !dup {
			first[d.Item] = d
			continue
		}
		// A second delivery is allowed once the first one's session ended.
		if q.endSession[f.Consumer] == f.SessionID && q.runs[f.Consumer] == f.Run {
			dups = append(dups, fmt.Sprintf("queue: %s delivered to consumer %d (session %#x, at %v) and again to consumer %d (session %#x, at %v) while the first consumer lived",
				d.Item, f.Consumer, f.SessionID, f.At.Format(time.StampMicro), d.Consumer, d.SessionID, d.At.Format(time.StampMicro)))
		}
	}
	return bad, dups
}

// Dump writes the puts and deliveries into dir.
func (q *Queue) Dump(dir string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return writeJSON(filepath.Join(dir, "queue.json"), map[string]any{"put": q.put, "notPut": q.notPut, "deliveries": q.deliveries, "sessions": q.sessions, "endSessions": q.endSession})
}
