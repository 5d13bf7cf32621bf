package counter

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
)

// Locker is the lock AtomicLong promotes to. recipes/lock's *lock.Mutex
// (Curator's InterProcessMutex) satisfies it; so does the small mutex this
// package uses by default.
type Locker interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
}

// ErrLockLost reports that the promotion lock's node vanished (its session
// ended) while waiting.
var ErrLockLost = errors.New("counter: lock node vanished; session lost")

// lockName is Curator's InterProcessMutex node name.
const lockName = "lock-"

// mutex is a minimal InterProcessMutex for the promotion lock: protected
// EPHEMERAL_SEQUENTIAL nodes <path>/_c_<uuid>-lock-<seq>, ordered by the text
// after the last "lock-" as Curator orders them, each waiter watching its
// predecessor. It is not reentrant; a waiter whose ctx ends removes its node.
// It serialises promoted writers only: writes stay version-checked, so a
// hold lost to a session expiry cannot corrupt the counter.
type mutex struct {
	c     *framework.Client
	path  string
	local chan struct{} // one holder per mutex value in this process
	node  string
}

func newMutex(c *framework.Client, path string) *mutex {
	return &mutex{c: c, path: path, local: make(chan struct{}, 1)}
}

// sortKey is Curator's comparator key: the text after the last lockName.
func sortKey(name string) string {
	if i := strings.LastIndex(name, lockName); i >= 0 {
		return name[i+len(lockName):]
	}
	return name
}

func (m *mutex) Lock(ctx context.Context) error {
	select {
	case m.local <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	node, err := m.acquire(ctx)
	if err != nil {
		<-m.local
		return err
	}
	m.node = node
	return nil
}

func (m *mutex) acquire(ctx context.Context) (string, error) {
	node, err := m.c.Create(ctx, m.path+"/"+lockName, nil,
		framework.WithMode(framework.ModeEphemeralSequential), framework.WithProtection(), framework.WithContainerParents())
	if err != nil {
		return "", fmt.Errorf("counter: lock %s: %w", m.path, err)
	}
	_, ours := framework.SplitPath(node)
	for {
		err = m.wait(ctx, ours)
		if err == nil {
			return node, nil
		}
		if !errors.Is(err, errAgain) {
			break
		}
	}
	// Our node must not block later lockers: delete it even though ctx ended.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = m.c.Delete(dctx, node, framework.Guaranteed(), framework.Quietly())
	return "", fmt.Errorf("counter: lock %s: %w", m.path, err)
}

var errAgain = errors.New("predecessor changed")

// wait returns nil when ours is first, errAgain after the predecessor went.
func (m *mutex) wait(ctx context.Context, ours string) error {
	kids, _, err := m.c.Children(ctx, m.path)
	if err != nil {
		return err
	}
	sort.Slice(kids, func(i, j int) bool { return sortKey(kids[i]) < sortKey(kids[j]) })
	idx := -1
	for i, k := range kids {
		if k == ours {
			idx = i
		}
	}
	switch idx {
	case -1:
		return ErrLockLost
	case 0:
		return nil
	}
	_, _, ch, err := m.c.GetW(ctx, m.path+"/"+kids[idx-1])
	if errors.Is(err, zk.ErrNoNode) {
		return errAgain
	}
	if err != nil {
		return err
	}
	select {
	case <-ch:
		return errAgain
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *mutex) Unlock(ctx context.Context) error {
	node := m.node
	if node == "" {
		return errors.New("counter: unlock of an unlocked mutex")
	}
	m.node = ""
	defer func() { <-m.local }()
	return m.c.Delete(ctx, node, framework.Guaranteed(), framework.Quietly())
}
