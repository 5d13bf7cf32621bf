package cache

import (
	"context"
	"testing"

	"github.com/go-zookeeper/zk"
)

// TestPollSeesEventForwardTook replays, deterministically, the interleaving
// behind a lost change against Apache ZooKeeper: go-zookeeper sends a watch's
// event into its channel and closes the channel only afterwards; the forward
// goroutine receives the event in between and wakes the loop, whose poll then
// finds the channel empty and still open. poll must still report the watch
// fired, or no later wake-up comes and the cache misses the change.
func TestPollSeesEventForwardTook(t *testing.T) {
	const root = "/r"
	for _, tc := range []struct {
		name  string
		arm   func(ls *loopState, w *watch)
		ev    zk.EventType
		flags uint8
	}{
		{"data", func(ls *loopState, w *watch) { ls.nodes[root].dataW = w }, zk.EventNodeDataChanged, readData},
		{"children", func(ls *loopState, w *watch) { ls.nodes[root].kidsW = w }, zk.EventNodeChildrenChanged, readKids},
		{"exists", func(ls *loopState, w *watch) { delete(ls.nodes, root); ls.rootW = w }, zk.EventNodeCreated, readData | readKids},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Tree{root: root, kick: make(chan struct{}, 1)}
			tr.ctx, tr.cancel = context.WithCancel(context.Background())
			defer func() { tr.cancel(); tr.wg.Wait() }()
			tr.loop.nodes = map[string]*entry{root: {path: root, live: true, kids: map[string]struct{}{}}}
			tr.loop.dirty = map[string]uint8{}
			ch := make(chan zk.Event, 1)
			w := newWatch(ch)
			tc.arm(&tr.loop, w)
			tr.forward(w)

			tr.poll()
			if len(tr.loop.dirty) != 0 {
				t.Fatalf("poll before the event: dirty %v", tr.loop.dirty)
			}
			ch <- zk.Event{Type: tc.ev, Path: root} // go-zookeeper's send; its close comes later
			<-tr.kick                               // forward took the event and woke the loop
			tr.poll()
			close(ch)
			if got := tr.loop.dirty[root]; got != tc.flags {
				t.Fatalf("poll after forward took the event: dirty[%s] = %b, want %b", root, got, tc.flags)
			}
		})
	}
}
