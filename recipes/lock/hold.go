package lock

import (
	"context"
	"sync"
	"time"

	"github.com/herd-io/herd/recipes/internal/contend"
)

// hold is one acquisition of a lock or lease: its node, its fencing token and
// the channel that closes when it ends or can no longer be trusted.
type hold struct {
	node  *contend.Node
	token int64
	lost  chan struct{}
	ended chan struct{}

	lostOnce sync.Once
	endOnce  sync.Once
	stop     func()
}

// newHold starts watching the fence of n's session: the hold is lost when the
// connection stays SUSPENDED longer than grace or the session ends.
func newHold(n *contend.Node, token int64, grace time.Duration) *hold {
	fence, stop := n.Session.Fence(grace)
	h := &hold{node: n, token: token, lost: make(chan struct{}), ended: make(chan struct{}), stop: stop}
	go func() {
		select {
		case <-fence:
			h.markLost()
		case <-h.ended:
		}
	}()
	return h
}

func (h *hold) markLost() { h.lostOnce.Do(func() { close(h.lost) }) }

// end finishes the hold: Lost closes (if it has not) and the fence goroutine
// exits.
func (h *hold) end() {
	h.endOnce.Do(func() {
		h.stop()
		close(h.ended)
		h.markLost()
	})
}

func (h *hold) trusted() bool {
	select {
	case <-h.lost:
		return false
	default:
		return true
	}
}

// closed is what Lost returns when nothing is held.
var closed = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// cleanupCtx is for releases after a failure: it outlives the caller's
// cancelled ctx, briefly.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), contend.CleanupTimeout)
}
