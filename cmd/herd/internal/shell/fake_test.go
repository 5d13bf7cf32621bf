package shell

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/herd-io/herd/server/proto"
)

// fakeClient is an in-memory ZooKeeper good enough for the shell's commands:
// stat bookkeeping, sequential names, ephemerals and one-shot watches.
type fakeClient struct {
	mu      sync.Mutex
	nodes   map[string]*fakeNode
	zxid    int64
	clock   int64 // ms since epoch; advances 1s per write
	session int64
	auths   []ClientInfo
	dataW   map[string]bool
	childW  map[string]bool
	onEvent func(Event)
	closed  bool
}

type fakeNode struct {
	data []byte
	stat proto.Stat
	acl  []proto.ACL
	seq  int32
}

// fakeEpoch is Wed Nov 25 17:11:30 UTC 2026, the time in the brief's example.
const fakeEpoch = 1795626690000

func newFake(onEvent func(Event)) *fakeClient {
	f := &fakeClient{nodes: map[string]*fakeNode{}, clock: fakeEpoch, session: 0x100000abc, dataW: map[string]bool{},
		childW: map[string]bool{}, onEvent: onEvent}
	f.nodes["/"] = &fakeNode{data: []byte{}, acl: proto.OpenACLUnsafe}
	f.nodes["/zookeeper"] = &fakeNode{data: []byte{}, acl: proto.OpenACLUnsafe}
	f.nodes["/zookeeper/config"] = &fakeNode{data: []byte{}, acl: proto.OpenACLUnsafe}
	f.nodes["/zookeeper/quota"] = &fakeNode{data: []byte{}, acl: proto.OpenACLUnsafe}
	f.nodes["/"].stat.NumChildren = 1
	f.nodes["/zookeeper"].stat.NumChildren = 2
	return f
}

// fakeDialer returns a DialFunc that hands out one shared fake, so tests can
// inspect it.
func fakeDialer(out **fakeClient) DialFunc {
	return func(_ context.Context, servers string, _ DialOptions, onEvent func(Event)) (Client, error) {
		f := newFake(onEvent)
		*out = f
		return f, nil
	}
}

func parentOf(p string) string {
	i := strings.LastIndex(p, "/")
	if i == 0 {
		return "/"
	}
	return p[:i]
}

func (f *fakeClient) children(p string) []string {
	var out []string
	for k := range f.nodes {
		if k != "/" && parentOf(k) == p {
			out = append(out, k[strings.LastIndex(k, "/")+1:])
		}
	}
	sort.Strings(out)
	return out
}

// fire delivers an event if a one-shot watch asked for it (outside f.mu).
func (f *fakeClient) fire(evs []Event) {
	for _, e := range evs {
		f.onEvent(e)
	}
}

func (f *fakeClient) tick() int64 {
	f.zxid++
	f.clock += 1000
	return f.zxid
}

func (f *fakeClient) Create(_ context.Context, path string, data []byte, acl []proto.ACL, mode proto.CreateMode, _ int64) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", proto.ErrBadArguments // as a server answers
	}
	f.mu.Lock()
	parent := f.nodes[parentOf(path)]
	if parent == nil {
		f.mu.Unlock()
		return "", proto.ErrNoNode
	}
	if mode.Sequential() {
		path += strings.Repeat("0", 10-len(itoa(parent.seq))) + itoa(parent.seq)
	}
	if f.nodes[path] != nil {
		f.mu.Unlock()
		return "", proto.ErrNodeExists
	}
	z := f.tick()
	n := &fakeNode{data: data, acl: acl}
	n.stat = proto.Stat{Czxid: z, Mzxid: z, Pzxid: z, Ctime: f.clock, Mtime: f.clock, DataLength: int32(len(data))}
	if mode.Ephemeral() {
		n.stat.EphemeralOwner = f.session
	}
	f.nodes[path] = n
	parent.seq++
	parent.stat.Cversion++
	parent.stat.NumChildren++
	parent.stat.Pzxid = z
	var evs []Event
	if f.dataW[path] {
		delete(f.dataW, path)
		evs = append(evs, Event{Type: proto.EventNodeCreated, State: StateSyncConnected, Path: path})
	}
	if f.childW[parentOf(path)] {
		delete(f.childW, parentOf(path))
		evs = append(evs, Event{Type: proto.EventNodeChildrenChanged, State: StateSyncConnected, Path: parentOf(path)})
	}
	f.mu.Unlock()
	f.fire(evs)
	return path, nil
}

func itoa(n int32) string {
	var b [12]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func (f *fakeClient) Delete(_ context.Context, path string, version int32) error {
	f.mu.Lock()
	n := f.nodes[path]
	switch {
	case n == nil:
		f.mu.Unlock()
		return proto.ErrNoNode
	case version != -1 && version != n.stat.Version:
		f.mu.Unlock()
		return proto.ErrBadVersion
	case len(f.children(path)) > 0:
		f.mu.Unlock()
		return proto.ErrNotEmpty
	}
	delete(f.nodes, path)
	p := f.nodes[parentOf(path)]
	p.stat.NumChildren--
	p.stat.Cversion++
	p.stat.Pzxid = f.tick()
	var evs []Event
	if f.dataW[path] {
		delete(f.dataW, path)
		evs = append(evs, Event{Type: proto.EventNodeDeleted, State: StateSyncConnected, Path: path})
	}
	if f.childW[parentOf(path)] {
		delete(f.childW, parentOf(path))
		evs = append(evs, Event{Type: proto.EventNodeChildrenChanged, State: StateSyncConnected, Path: parentOf(path)})
	}
	f.mu.Unlock()
	f.fire(evs)
	return nil
}

func (f *fakeClient) Exists(_ context.Context, path string, watch bool) (proto.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if watch {
		f.dataW[path] = true
	}
	n := f.nodes[path]
	if n == nil {
		return proto.Stat{}, proto.ErrNoNode
	}
	return n.stat, nil
}

func (f *fakeClient) Get(_ context.Context, path string, watch bool) ([]byte, proto.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[path]
	if n == nil {
		return nil, proto.Stat{}, proto.ErrNoNode
	}
	if watch {
		f.dataW[path] = true
	}
	return n.data, n.stat, nil
}

func (f *fakeClient) Set(_ context.Context, path string, data []byte, version int32) (proto.Stat, error) {
	f.mu.Lock()
	n := f.nodes[path]
	if n == nil {
		f.mu.Unlock()
		return proto.Stat{}, proto.ErrNoNode
	}
	if version != -1 && version != n.stat.Version {
		f.mu.Unlock()
		return proto.Stat{}, proto.ErrBadVersion
	}
	n.data = data
	n.stat.Mzxid = f.tick()
	n.stat.Mtime = f.clock
	n.stat.Version++
	n.stat.DataLength = int32(len(data))
	st := n.stat
	var evs []Event
	if f.dataW[path] {
		delete(f.dataW, path)
		evs = append(evs, Event{Type: proto.EventNodeDataChanged, State: StateSyncConnected, Path: path})
	}
	f.mu.Unlock()
	f.fire(evs)
	return st, nil
}

func (f *fakeClient) Children(_ context.Context, path string, watch bool) ([]string, proto.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[path]
	if n == nil {
		return nil, proto.Stat{}, proto.ErrNoNode
	}
	if watch {
		f.childW[path] = true
	}
	return f.children(path), n.stat, nil
}

func (f *fakeClient) GetACL(_ context.Context, path string) ([]proto.ACL, proto.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[path]
	if n == nil {
		return nil, proto.Stat{}, proto.ErrNoNode
	}
	return n.acl, n.stat, nil
}

func (f *fakeClient) SetACL(_ context.Context, path string, acl []proto.ACL, version int32) (proto.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[path]
	if n == nil {
		return proto.Stat{}, proto.ErrNoNode
	}
	if version != -1 && version != n.stat.Aversion {
		return proto.Stat{}, proto.ErrBadVersion
	}
	n.acl = acl
	n.stat.Aversion++
	return n.stat, nil
}

func (f *fakeClient) Sync(context.Context, string) error { return nil }

func (f *fakeClient) AddAuth(_ context.Context, scheme string, auth []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	user, _, _ := strings.Cut(string(auth), ":")
	f.auths = append(f.auths, ClientInfo{AuthScheme: scheme, User: user})
	return nil
}

func (f *fakeClient) WhoAmI(context.Context) ([]ClientInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}, f.auths...), nil
}

func (f *fakeClient) GetEphemerals(_ context.Context, prefix string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p, n := range f.nodes {
		if n.stat.EphemeralOwner == f.session && strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeClient) GetAllChildrenNumber(_ context.Context, path string) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nodes[path] == nil {
		return 0, proto.ErrNoNode
	}
	var n int32
	for p := range f.nodes {
		if p != path && strings.HasPrefix(p, strings.TrimSuffix(path, "/")+"/") {
			n++
		}
	}
	return n, nil
}

func (f *fakeClient) AddWatch(context.Context, string, int32) error { return nil }

func (f *fakeClient) RemoveWatches(_ context.Context, path string, _ proto.WatcherType, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dataW[path] && !f.childW[path] {
		return proto.ErrNoWatcher
	}
	delete(f.dataW, path)
	delete(f.childW, path)
	return nil
}

func (f *fakeClient) Reconfig(context.Context, string, string, string, int64) ([]byte, proto.Stat, error) {
	return nil, proto.Stat{}, proto.ErrReconfigDisabled
}

func (f *fakeClient) State() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return stateClosed
	}
	return stateConnected
}

func (f *fakeClient) Close(context.Context) error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}
