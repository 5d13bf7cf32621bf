package contend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
)

// ErrGone reports that a contender node can no longer be ours: it vanished
// from the directory, or its session ended (the server deletes, or will
// delete, a dead session's ephemeral nodes). The caller removes it, in case
// a dying session still holds it, and joins again with a new node.
var ErrGone = errors.New("contend: our node is gone")

// ErrBusy is Wait's answer in try mode when the rule says another node holds.
var ErrBusy = errors.New("contend: held by another node")

// CleanupTimeout bounds how long removing a node after a failed or cancelled
// wait may delay the caller; past it the client's guaranteed delete goes on
// in the background.
const CleanupTimeout = 5 * time.Second

// Node is one contender node of ours.
type Node struct {
	// Path is the node's full path (relative to the client's namespace).
	Path string
	// Name is the last component of Path.
	Name string
	// Session is the session the node was created on: when its Done closes,
	// the node must be assumed gone.
	Session *framework.Session
}

// Contender creates and waits with nodes in one directory. Its fields are
// set once and then only read, so one Contender may serve many goroutines.
type Contender struct {
	Client *framework.Client
	// Dir is the contention directory (the lock path).
	Dir string
	// Name is the node name the server appends the sequence to ("lock-",
	// "latch-", "__WRIT__", ...).
	Name string
	// SortNames are the lock names Key strips to sort (default: Name).
	SortNames []string
	// Data is written into each node (a leader's id, for example).
	Data []byte
	// Rule says from the sorted children whether our node holds.
	Rule Rule
	// OnWake, when set, is called every time a watch wakes a waiter (tests
	// count wake-ups with it).
	OnWake func()
}

func (k *Contender) sortNames() []string {
	if len(k.SortNames) > 0 {
		return k.SortNames
	}
	return []string{k.Name}
}

// Create makes a protected ephemeral-sequential node Dir/_c_<uuid>-Name<seq>
// on the current session, with container parents as Curator's recipes do.
func (k *Contender) Create(ctx context.Context) (*Node, error) {
	return k.CreateAs(ctx, k.Name, framework.ModeEphemeralSequential)
}

// CreateAs is Create with another name and mode (a non-sequential node that
// must sort at a chosen place, as a read lock taken by the write holder).
func (k *Contender) CreateAs(ctx context.Context, name string, mode framework.CreateMode) (*Node, error) {
	sess, err := k.Client.Session(ctx)
	if err != nil {
		return nil, err
	}
	p, err := k.Client.Create(ctx, framework.JoinPath(k.Dir, name), k.Data,
		framework.WithMode(mode), framework.WithProtection(), framework.WithContainerParents())
	if err != nil {
		return nil, err
	}
	_, base := framework.SplitPath(p)
	return &Node{Path: p, Name: base, Session: sess}, nil
}

// Sorted returns the directory's children in Curator's order (nil if the
// directory does not exist).
func (k *Contender) Sorted(ctx context.Context) ([]string, error) {
	kids, _, err := k.Client.Children(ctx, k.Dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	Sort(kids, k.sortNames()...)
	return kids, nil
}

// Wait blocks until Rule says n holds and returns the node's stat (its Czxid
// is the hold's fencing token). While n does not hold, Wait watches only the
// child the rule names, with getData so that no watch is left on a node
// that is already gone. It fails with ErrGone when n vanished or its session
// ended, with ErrBusy in try mode when another node holds, and with ctx's
// error when ctx ends. It never deletes n: that is the caller's choice.
//
// Before it reports a hold it has read n back (once, beside the first
// listing: see OwnerCheck) and checked that n's owner is n's session, so a
// node of an older session (CURATOR-696) is never taken for a hold.
func (k *Contender) Wait(ctx context.Context, n *Node, try bool) (*zk.Stat, error) {
	// A try that finds the lock busy needs no stat: read it only on a hold.
	var owner *OwnerCheck
	if !try {
		owner = k.CheckOwner(ctx, n)
	}
	defer func() {
		if owner != nil {
			owner.Stop()
		}
	}()
	for {
		select {
		case <-n.Session.Done():
			return nil, ErrGone
		default:
		}
		kids, err := k.Sorted(ctx)
		if err != nil {
			return nil, err
		}
		ours := slices.Index(kids, n.Name)
		if ours < 0 {
			return nil, ErrGone
		}
		holds, watch := k.Rule(kids, ours)
		if holds {
			if owner == nil {
				owner = k.CheckOwner(ctx, n)
			}
			return owner.Result()
		}
		if try {
			return nil, ErrBusy
		}
		_, _, ch, err := k.Client.GetW(ctx, framework.JoinPath(k.Dir, watch))
		if errors.Is(err, zk.ErrNoNode) {
			continue // gone between the listing and the watch: look again
		}
		if err != nil {
			return nil, err
		}
		select {
		case <-ch:
			if k.OnWake != nil {
				k.OnWake()
			}
		case <-n.Session.Done():
			return nil, ErrGone
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Acquire joins with a new node and waits until it holds, joining again with
// a fresh node whenever the old one is gone (its session ended). On any
// failure, cancellation or ErrBusy it removes its node before returning, so
// a waiter that gives up leaves nothing behind.
func (k *Contender) Acquire(ctx context.Context, try bool) (*Node, *zk.Stat, error) {
	return k.AcquireWith(ctx, try, k.Create)
}

// AcquireWith is Acquire with another way of creating the node.
func (k *Contender) AcquireWith(ctx context.Context, try bool, create func(context.Context) (*Node, error)) (*Node, *zk.Stat, error) {
	for {
		n, err := create(ctx)
		if err != nil {
			return nil, nil, err
		}
		st, err := k.Wait(ctx, n, try)
		if err == nil {
			return n, st, nil
		}
		k.Cleanup(ctx, n)
		if !errors.Is(err, ErrGone) {
			return nil, nil, err
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
	}
}

// Remove deletes n within ctx. The delete is guaranteed: if it fails with a
// connection error or ctx ends, the client keeps deleting in the background
// (while the error is still returned). A node already gone is success.
func (k *Contender) Remove(ctx context.Context, n *Node) error {
	if err := k.Client.Delete(ctx, n.Path, framework.Guaranteed(), framework.Quietly()); err != nil {
		return fmt.Errorf("remove %s: %w", n.Path, err)
	}
	return nil
}

// Cleanup removes n after a failure: it runs even when ctx has ended and
// waits at most CleanupTimeout before leaving the delete to the background.
func (k *Contender) Cleanup(ctx context.Context, n *Node) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
	defer cancel()
	_ = k.Remove(ctx, n)
}
