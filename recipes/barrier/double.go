package barrier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"

	"github.com/herd-io/herd/framework"
)

// ErrNotEntered is returned by Leave on a DoubleBarrier that has not entered.
var ErrNotEntered = errors.New("barrier: leave before enter")

// ErrEntered is returned by Enter on a DoubleBarrier that has entered and not left.
var ErrEntered = errors.New("barrier: already entered")

// readyName is the control node of a double barrier (Curator's and kazoo's name).
const readyName = "ready"

// cleanupTimeout bounds the deletes a cancelled call makes after its context
// ended; a delete that does not finish in time goes on in the background.
const cleanupTimeout = 10 * time.Second

// DoubleBarrier is Curator's DistributedDoubleBarrier (and kazoo's
// DoubleBarrier): Enter blocks until members members have entered, Leave
// until every member that entered has left. Members is a threshold, not a
// limit: more may enter. One DoubleBarrier value is one member; its methods
// are safe for concurrent use and run one at a time. After Leave it can
// Enter again for the next round.
type DoubleBarrier struct {
	c       *framework.Client
	path    string
	ready   string
	id      []byte
	members int
	err     error

	mu      sync.Mutex
	node    string // our member node while entered (it may be gone with a lost session)
	entered bool
}

// NewDouble returns member id of the double barrier at path that opens when
// members members have entered. The id is stored as the member node's data
// (kazoo's identifier). Invalid arguments are reported by Enter and Leave,
// wrapping framework.ErrInvalidPath, ErrInvalidMembers or ErrNilClient.
func NewDouble(c *framework.Client, path, id string, members int) *DoubleBarrier {
	err := checkArgs(c, path)
	if err == nil && members < 1 {
		err = fmt.Errorf("%w: %d", ErrInvalidMembers, members)
	}
	return &DoubleBarrier{c: c, path: path, ready: framework.JoinPath(path, readyName), id: []byte(id),
		members: members, err: err}
}

// Enter joins the barrier and blocks until members members have joined (or
// the barrier was already open when this member joined). If ctx ends first,
// Enter deletes this member's node and returns ctx's error. If the session
// is lost while waiting, the member joins again in the next session.
func (d *DoubleBarrier) Enter(ctx context.Context) error {
	if d.err != nil {
		return d.err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.entered {
		return ErrEntered
	}
	for {
		sess, err := d.c.Session(ctx)
		if err != nil {
			return fmt.Errorf("barrier: enter %s: %w", d.path, err)
		}
		done, err := d.enter(ctx, sess)
		if err != nil {
			return err
		}
		if done {
			d.entered = true
			return nil
		}
		// The session ended and our node with it: join again.
	}
}

// enter runs one attempt within sess. It reports false, with no error, when
// sess ended before the barrier opened.
func (d *DoubleBarrier) enter(ctx context.Context, sess *framework.Session) (bool, error) {
	// Watch ready before creating our node (Curator's order): if the member
	// that completes the count creates it at any later moment, we hear of it
	// even if the first leaver has deleted it again before we look.
	st, readyW, err := d.c.ExistsW(ctx, d.ready)
	if err != nil {
		return false, fmt.Errorf("barrier: enter %s: %w", d.path, err)
	}
	node := framework.JoinPath(d.path, uuid.NewString())
	if _, err := d.c.Create(ctx, node, d.id, framework.WithMode(framework.ModeEphemeral), framework.WithContainerParents()); err != nil {
		d.remove(ctx, node) // the create may have reached the server
		return false, fmt.Errorf("barrier: enter %s: %w", d.path, err)
	}
	if d.c.SessionID() != sess.ID() {
		// Created in a later session than the one we watch: start over there.
		d.remove(ctx, node)
		return false, nil
	}
	d.node = node
	if st != nil {
		return true, nil
	}
	for {
		kids, _, err := d.c.Children(ctx, d.path)
		if err != nil {
			d.leaveEarly(ctx)
			return false, fmt.Errorf("barrier: enter %s: %w", d.path, err)
		}
		if len(memberNames(kids)) >= d.members {
			if _, err := d.c.Create(ctx, d.ready, nil); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				d.leaveEarly(ctx)
				return false, fmt.Errorf("barrier: enter %s: create ready: %w", d.path, err)
			}
			return true, nil
		}
		select {
		case ev := <-readyW:
			if ev.Type == zk.EventNodeCreated {
				return true, nil
			}
			// The watch ended (session loss) or something else happened: look again.
			st, readyW, err = d.c.ExistsW(ctx, d.ready)
			if err != nil {
				d.leaveEarly(ctx)
				return false, fmt.Errorf("barrier: enter %s: %w", d.path, err)
			}
			if st != nil {
				return true, nil
			}
		case <-sess.Done():
			// Our node is gone, or goes when the server expires the session.
			d.leaveEarly(ctx)
			return false, nil
		case <-ctx.Done():
			d.leaveEarly(ctx)
			return false, ctx.Err()
		}
	}
}

// Leave leaves the barrier and blocks until every member has left. It uses
// ZooKeeper's recipe: the first leaver deletes ready (so that the next round
// waits for a full count again, as kazoo does); the lowest member waits for
// the highest to go and leaves last, every other member deletes its node and
// waits for the lowest. If ctx ends first, Leave deletes this member's node
// (if still there) and returns ctx's error; the member has left either way.
func (d *DoubleBarrier) Leave(ctx context.Context) error {
	if d.err != nil {
		return d.err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.entered {
		return ErrNotEntered
	}
	err := d.leave(ctx)
	if err != nil && ctx.Err() == nil {
		return err // still entered: Leave may be called again
	}
	if err != nil {
		d.leaveEarly(ctx)
	}
	d.entered, d.node = false, ""
	return err
}

func (d *DoubleBarrier) leave(ctx context.Context) error {
	if err := d.c.Delete(ctx, d.ready, framework.Quietly()); err != nil {
		return fmt.Errorf("barrier: leave %s: %w", d.path, err)
	}
	_, ours := framework.SplitPath(d.node)
	for {
		kids, _, err := d.c.Children(ctx, d.path)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("barrier: leave %s: %w", d.path, err)
		}
		members := memberNames(kids)
		if len(members) == 0 {
			return nil
		}
		slices.Sort(members)
		present := slices.Contains(members, ours)
		var next string // the member to wait for
		switch {
		case present && len(members) == 1:
			return d.deleteOurs(ctx)
		case present && members[0] == ours:
			next = members[len(members)-1]
		default:
			// Not the lowest (or our node went with a lost session).
			if present {
				if err := d.deleteOurs(ctx); err != nil {
					return err
				}
			}
			next = members[0]
		}
		st, ch, err := d.c.ExistsW(ctx, framework.JoinPath(d.path, next))
		if err != nil {
			return fmt.Errorf("barrier: leave %s: %w", d.path, err)
		}
		if st == nil {
			continue
		}
		select {
		case <-ch: // deleted, or the watch ended: look again
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *DoubleBarrier) deleteOurs(ctx context.Context) error {
	if err := d.c.Delete(ctx, d.node, framework.Quietly(), framework.Guaranteed()); err != nil {
		return fmt.Errorf("barrier: leave %s: %w", d.path, err)
	}
	return nil
}

// leaveEarly deletes our member node after a failed or cancelled wait.
func (d *DoubleBarrier) leaveEarly(ctx context.Context) {
	if d.node != "" {
		d.remove(ctx, d.node)
		d.node = ""
	}
}

// remove deletes node even though ctx may have ended: with a fresh deadline,
// and in the background (guaranteed) if that is not enough.
func (d *DoubleBarrier) remove(ctx context.Context, node string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = d.c.Delete(cctx, node, framework.Quietly(), framework.Guaranteed())
}

// memberNames returns the children that are member nodes (all but ready).
func memberNames(kids []string) []string {
	out := make([]string, 0, len(kids))
	for _, k := range kids {
		if k != readyName {
			out = append(out, k)
		}
	}
	return out
}
