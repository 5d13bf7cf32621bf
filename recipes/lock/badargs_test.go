package lock_test

import (
	"context"
	"errors"
	"testing"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/internal/testtarget"
	"github.com/herd-io/herd/recipes/internal/recipetest"
	"github.com/herd-io/herd/recipes/lock"
)

// testBadArguments: every constructor's bad input is an error from every
// call, never a panic, and creates nothing.
func testBadArguments(t *testing.T, tg testtarget.Target) {
	ctx := recipetest.Ctx(t)
	c := recipetest.Client(t, tg.Addr())
	good := recipetest.Path(t, "x")
	type call struct {
		name string
		do   func(context.Context) error
		want error
	}
	mutexCalls := func(name string, m *lock.Mutex, want error) []call {
		return []call{
			{name + ".Lock", m.Lock, want},
			{name + ".TryLock", m.TryLock, want},
			{name + ".Unlock", m.Unlock, want},
			{name + ".Participants", func(ctx context.Context) error { _, err := m.Participants(ctx); return err }, want},
		}
	}
	var calls []call
	calls = append(calls, mutexCalls("nil client", lock.NewMutex(nil, good), lock.ErrInvalidArgument)...)
	for _, p := range []string{"", "relative", good + "/", good + "//y", good + "/.."} {
		calls = append(calls, mutexCalls("mutex "+p, lock.NewMutex(c, p), framework.ErrInvalidPath)...)
		calls = append(calls, mutexCalls("rw read "+p, lock.NewRWMutex(c, p).ReadLock(), framework.ErrInvalidPath)...)
		calls = append(calls, mutexCalls("rw write "+p, lock.NewRWMutex(c, p).WriteLock(), framework.ErrInvalidPath)...)
		s := lock.NewSemaphore(c, p, 1)
		calls = append(calls, call{"semaphore " + p, func(ctx context.Context) error { _, err := s.Acquire(ctx); return err }, framework.ErrInvalidPath})
		ml := lock.NewMultiLock(c, []string{good, p})
		calls = append(calls, call{"multilock " + p, ml.Lock, framework.ErrInvalidPath})
	}
	for _, max := range []int{0, -1} {
		s := lock.NewSemaphore(c, good, max)
		calls = append(calls,
			call{"semaphore max", func(ctx context.Context) error { _, err := s.Acquire(ctx); return err }, lock.ErrInvalidArgument},
			call{"semaphore max N", func(ctx context.Context) error { _, err := s.AcquireN(ctx, 1); return err }, lock.ErrInvalidArgument},
			call{"semaphore max participants", func(ctx context.Context) error { _, err := s.Participants(ctx); return err }, lock.ErrInvalidArgument})
	}
	calls = append(calls,
		call{"semaphore nil client", func(ctx context.Context) error { _, err := lock.NewSemaphore(nil, good, 1).Acquire(ctx); return err }, lock.ErrInvalidArgument},
		call{"multilock none", lock.NewMultiLock(c, nil).Lock, lock.ErrInvalidArgument},
		call{"multilock twice", lock.NewMultiLock(c, []string{good, good}).TryLock, lock.ErrInvalidArgument},
		call{"multilock nil", lock.Multi(lock.NewMutex(c, good), nil).Lock, lock.ErrInvalidArgument},
		call{"multilock unlock", lock.NewMultiLock(c, nil).Unlock, lock.ErrInvalidArgument},
	)
	for _, tc := range calls {
		if err := tc.do(ctx); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if st, err := c.Exists(ctx, good); err != nil || st != nil {
		t.Fatalf("%s exists after bad calls (%v, %v)", good, st, err)
	}
	if kids := recipetest.Children(t, c, recipetest.Path(t)); len(kids) != 0 {
		t.Fatalf("created %v", kids)
	}
}
