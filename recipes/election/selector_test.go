package election_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/election"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

// terms records lead functions across participants: how many run at once
// (never more than one) and each term's token.
type terms struct {
	mu      sync.Mutex
	active  int
	overlap []string
	ids     []string
	tokens  []int64
	started chan string
}

func newTerms() *terms { return &terms{started: make(chan string, 100)} }

func (tr *terms) begin(s *election.Selector) {
	tr.mu.Lock()
	tr.active++
	if tr.active > 1 {
		tr.overlap = append(tr.overlap, s.ID())
	}
	tr.ids = append(tr.ids, s.ID())
	tr.tokens = append(tr.tokens, s.Token())
	tr.mu.Unlock()
	tr.started <- s.ID()
}

func (tr *terms) end() {
	tr.mu.Lock()
	tr.active--
	tr.mu.Unlock()
}

func (tr *terms) check(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.overlap) > 0 {
		t.Fatalf("lead functions overlapped when %v began (terms %v)", tr.overlap, tr.ids)
	}
	for i := 1; i < len(tr.tokens); i++ {
		if tr.tokens[i] <= tr.tokens[i-1] {
			t.Fatalf("term tokens not increasing: %v", tr.tokens)
		}
	}
}

// next waits for the next term to begin and returns its participant's id.
func (tr *terms) next(t *testing.T) string {
	t.Helper()
	select {
	case id := <-tr.started:
		return id
	case <-recipetest.Ctx(t).Done():
		t.Fatal("no new term")
		return ""
	}
}

// runSelector runs s until the test ends; its result arrives on the channel.
func runSelector(t *testing.T, s *election.Selector, lead func(context.Context) error) <-chan error {
	ctx, cancel := context.WithCancel(recipetest.Ctx(t))
	res := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		res <- s.Run(ctx, lead)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return res
}

// testSelectorOneAtATime: three requeueing selectors take many short terms;
// terms never overlap and their tokens increase.
func testSelectorOneAtATime(t *testing.T, tg testtarget.Target) {
	path := recipetest.Path(t, "sel")
	tr := newTerms()
	var total atomic.Int32
	for i := range 3 {
		s := election.NewSelector(recipetest.Client(t, tg.Addr()), path, fmt.Sprintf("s%d", i), election.AutoRequeue())
		runSelector(t, s, func(ctx context.Context) error {
			tr.begin(s)
			defer tr.end()
			if !s.HasLeadership() {
				return errors.New("lead running without leadership")
			}
			total.Add(1)
			return nil
		})
	}
	seen := map[string]bool{}
	for range 12 {
		seen[tr.next(t)] = true
	}
	tr.check(t)
	if len(seen) != 3 {
		t.Fatalf("only %v led in 12 terms", seen)
	}
}

// leadUntilLost is a lead function that holds leadership until its ctx ends.
func leadUntilLost(tr *terms, s **election.Selector) func(context.Context) error {
	return func(ctx context.Context) error {
		tr.begin(*s)
		defer tr.end()
		<-ctx.Done()
		return ctx.Err()
	}
}

// testSelectorCut: the leader's connection is cut. Its lead ctx is
// cancelled at once, its term ends, and only then does the follower lead.
func testSelectorCut(t *testing.T, tg testtarget.Target) {
	path := recipetest.Path(t, "sel")
	px := recipetest.Proxy(t, tg.Addr())
	tr := newTerms()
	leader := election.NewSelector(recipetest.Client(t, px.Addr()), path, "leader")
	res := runSelector(t, leader, leadUntilLost(tr, &leader))
	if id := tr.next(t); id != "leader" {
		t.Fatalf("first term: %s", id)
	}
	follower := election.NewSelector(recipetest.Client(t, tg.Addr()), path, "follower", election.AutoRequeue())
	runSelector(t, follower, leadUntilLost(tr, &follower))
	waitQueued(t, follower, 2)
	px.Cut()
	if err := <-res; !errors.Is(err, election.ErrLeadershipLost) {
		t.Fatalf("leader's Run = %v, want ErrLeadershipLost", err)
	}
	if id := tr.next(t); id != "follower" {
		t.Fatalf("second term: %s", id)
	}
	tr.check(t)
}

// testSelectorPartitioned: the leader's network goes silent, so it cannot
// even delete its node; the follower leads only when the server expires the
// leader's session, by which time the leader's term has ended.
func testSelectorPartitioned(t *testing.T, tg testtarget.Target) {
	path := recipetest.Path(t, "sel")
	px := recipetest.Proxy(t, tg.Addr())
	tr := newTerms()
	leader := election.NewSelector(recipetest.Client(t, px.Addr(), framework.WithSessionTimeout(3*time.Second)), path, "leader")
	res := runSelector(t, leader, leadUntilLost(tr, &leader))
	if id := tr.next(t); id != "leader" {
		t.Fatalf("first term: %s", id)
	}
	follower := election.NewSelector(recipetest.Client(t, tg.Addr()), path, "follower", election.AutoRequeue())
	runSelector(t, follower, leadUntilLost(tr, &follower))
	waitQueued(t, follower, 2)
	px.Blackhole(true)
	if id := tr.next(t); id != "follower" {
		t.Fatalf("second term: %s", id)
	}
	tr.check(t)
	px.Blackhole(false)
	if err := <-res; !errors.Is(err, election.ErrLeadershipLost) {
		t.Fatalf("leader's Run = %v, want ErrLeadershipLost", err)
	}
}

// testSelectorExpired: the server expires the leader's session; its term
// ends and the follower leads, never both at once.
func testSelectorExpired(t *testing.T, tg testtarget.Target) {
	path := recipetest.Path(t, "sel")
	tr := newTerms()
	lc := recipetest.Client(t, tg.Addr())
	leader := election.NewSelector(lc, path, "leader")
	res := runSelector(t, leader, leadUntilLost(tr, &leader))
	if id := tr.next(t); id != "leader" {
		t.Fatalf("first term: %s", id)
	}
	follower := election.NewSelector(recipetest.Client(t, tg.Addr()), path, "follower", election.AutoRequeue())
	runSelector(t, follower, leadUntilLost(tr, &follower))
	waitQueued(t, follower, 2)
	testtarget.ExpireSession(t, tg.Addr(), lc.Conn())
	if err := <-res; !errors.Is(err, election.ErrLeadershipLost) {
		t.Fatalf("leader's Run = %v, want ErrLeadershipLost", err)
	}
	if id := tr.next(t); id != "follower" {
		t.Fatalf("second term: %s", id)
	}
	tr.check(t)
}

// testSelectorSingleTerm: without AutoRequeue Run returns what lead
// returned, leadership passes on, and Leader/Participants follow it.
func testSelectorSingleTerm(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	path := recipetest.Path(t, "sel")
	c := recipetest.Client(t, tg.Addr())
	a := election.NewSelector(c, path, "a")
	b := election.NewSelector(recipetest.Client(t, tg.Addr()), path, "b")
	if _, err := a.Leader(ctx); !errors.Is(err, election.ErrNoLeader) {
		t.Fatalf("Leader of an empty election = %v", err)
	}
	release := make(chan struct{})
	boom := errors.New("boom")
	ares := runSelector(t, a, func(ctx context.Context) error {
		if id, err := a.Leader(ctx); err != nil || id != "a" || a.Node() == "" || a.Token() == 0 {
			return fmt.Errorf("while leading: Leader %q %v, node %q, token %d", id, err, a.Node(), a.Token())
		}
		<-release
		return boom
	})
	recipetest.Eventually(t, "a leading", a.HasLeadership)
	bres := runSelector(t, b, func(ctx context.Context) error { return nil })
	waitQueued(t, b, 2)
	ps, err := b.Participants(ctx)
	if err != nil || len(ps) != 2 || ps[0] != (election.Participant{ID: "a", Leader: true}) || ps[1] != (election.Participant{ID: "b"}) {
		t.Fatalf("Participants = %+v, %v", ps, err)
	}
	close(release)
	if err := <-ares; !errors.Is(err, boom) {
		t.Fatalf("a's Run = %v, want lead's error", err)
	}
	if a.HasLeadership() || a.Node() != "" || a.Token() != 0 {
		t.Fatal("a still leading after its term")
	}
	if err := <-bres; err != nil {
		t.Fatalf("b's Run = %v", err)
	}
	if kids := recipetest.Children(t, c, path); len(kids) != 0 {
		t.Fatalf("nodes left: %v", kids)
	}
}

func waitQueued(t *testing.T, s *election.Selector, n int) {
	t.Helper()
	recipetest.Eventually(t, fmt.Sprintf("%d participants", n), func() bool {
		ps, err := s.Participants(recipetest.Ctx(t))
		return err == nil && len(ps) == n
	})
}

// testBadArguments: bad input is an error from the first call, and no node
// is created.
func testBadArguments(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	c := recipetest.Client(t, tg.Addr())
	good := recipetest.Path(t, "x")
	lead := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"selector nil lead", election.NewSelector(c, good, "a").Run(ctx, nil), election.ErrInvalidArgument},
		{"selector nil client", election.NewSelector(nil, good, "a").Run(ctx, lead), election.ErrInvalidArgument},
		{"selector bad path", election.NewSelector(c, "bad", "a").Run(ctx, lead), framework.ErrInvalidPath},
		{"selector leader bad path", errOf(election.NewSelector(c, good+"/", "a").Leader(ctx)), framework.ErrInvalidPath},
		{"latch nil client", election.NewLatch(nil, good, "a").Start(ctx), election.ErrInvalidArgument},
		{"latch bad path", election.NewLatch(c, "", "a").Start(ctx), framework.ErrInvalidPath},
		{"latch await bad path", election.NewLatch(c, "//", "a").Await(ctx), framework.ErrInvalidPath},
		{"latch close bad path", election.NewLatch(c, "x/", "a").Close(ctx), framework.ErrInvalidPath},
		{"latch participants bad path", errOf(election.NewLatch(c, "/a/../b", "a").Participants(ctx)), framework.ErrInvalidPath},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if st, err := c.Exists(ctx, good); err != nil || st != nil {
		t.Fatalf("%s created (%v, %v)", good, st, err)
	}
}

func errOf[T any](_ T, err error) error { return err }
