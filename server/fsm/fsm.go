// Package fsm is herd's replicated state machine: the data tree, the session
// table and the last applied zxid, changed only by applying Raft log entries.
//
// Apply is deterministic: it reads nothing but the entry and the current state
// (no clock, no randomness), so every replica that applies the same log holds the
// same tree, stats and sessions and returns the same results. A write that fails
// its preconditions is still an entry and still consumes a zxid; its error is
// decided here, against the state at that index.
//
// The zxid of an entry is its Raft log index, so zxids only grow, across restarts
// and leader changes alike.
package fsm

import (
	"io"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"

	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
	"github.com/herd-io/herd/server/watch"
)

// Session is a replicated session: what any node needs to re-attach a client.
type Session struct {
	ID      int64
	Passwd  []byte
	Timeout int32 // negotiated timeout in ms
	// Owner is the server the client is attached to (its myid); 0 on a
	// standalone server. Requests proposed by any other server fail with
	// sessionMoved.
	Owner int32
}

// Result is what applying one entry produced, returned through raft's
// ApplyFuture.Response.
type Result struct {
	Zxid int64
	// Err is the ZooKeeper error code of the request (ErrOK on success).
	Err proto.Error
	// Resp is the response record to send, or nil for a header-only reply.
	Resp proto.Record
}

// Hooks let the server react to session changes as they are applied. They run
// on the apply goroutine with the state lock held: they must be quick and must
// not call back into the FSM.
type Hooks struct {
	SessionCreated func(s Session)
	SessionClosed  func(id int64)
	// SessionMoved runs when a session's client re-attached at server owner.
	SessionMoved func(id int64, owner int32)
	// Restored runs after a snapshot replaced the whole state.
	Restored func()
	// ConfigData renders a membership change (a Raft configuration entry) as
	// the data of /zookeeper/config; nil leaves the node unchanged. It must
	// read nothing but its arguments.
	ConfigData func(c raft.Configuration, index uint64) []byte
}

// Options configure an FSM.
type Options struct {
	// MaxBuffer caps any length inside a request body (jute.maxbuffer).
	MaxBuffer int
	// ExtendedTypes enables TTL nodes.
	ExtendedTypes bool
	// EnforceQuota refuses writes over a hard quota limit (enforceQuota).
	// Like ExtendedTypes it must be the same on every member.
	EnforceQuota bool
	Logger       *zap.Logger
	Hooks        Hooks
}

// FSM implements raft.FSM over the data tree.
type FSM struct {
	opts    Options
	log     *zap.Logger
	watches *watch.Manager

	mu sync.RWMutex
	// freezeMu serialises Snapshot's Freeze, which writes the tree's gen
	// under mu's read lock (so reads go on): raft's snapshot and a backup's
	// may run at once.
	freezeMu sync.Mutex
	tree     *tree.Tree
	sessions map[int64]*Session
	lastZxid atomic.Int64
	// lastTime is the newest proposer time applied: the time of changes whose
	// entries carry none (membership changes).
	lastTime int64
}

// New returns an FSM with an empty tree. Watch notifications triggered by applied
// writes are delivered through watches.
func New(watches *watch.Manager, opts Options) *FSM {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.MaxBuffer <= 0 {
		opts.MaxBuffer = proto.DefaultMaxBuffer
	}
	f := &FSM{
		opts:     opts,
		log:      opts.Logger,
		watches:  watches,
		tree:     tree.New(),
		sessions: make(map[int64]*Session),
	}
	f.tree.SetOptions(f.treeOptions())
	return f
}

// treeOptions are the tree's switches, the same after every restore.
func (f *FSM) treeOptions() tree.Options {
	return tree.Options{
		ExtendedTypes: f.opts.ExtendedTypes,
		EnforceQuota:  f.opts.EnforceQuota,
		QuotaExceeded: func(q tree.QuotaExceeded) {
			// Every replica applies the write, so every one logs it.
			f.log.Warn(q.String(), zap.String("quota", q.Prefix), zap.Bool("refused", q.Refused))
		},
	}
}

// SetConfigRenderer sets Hooks.ConfigData; call it before the first apply.
func (f *FSM) SetConfigRenderer(render func(c raft.Configuration, index uint64) []byte) {
	f.opts.Hooks.ConfigData = render
}

// LastZxid returns the zxid of the last applied entry.
func (f *FSM) LastZxid() int64 { return f.lastZxid.Load() }

// Read runs fn with the tree under the read lock: no write is applied while fn
// runs, so a read and its watch registration are atomic with respect to writes.
// fn must not keep t.
func (f *FSM) Read(fn func(t *tree.Tree)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.tree)
}

// Session returns a copy of the replicated session id, if it is open.
func (f *FSM) Session(id int64) (Session, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.sessions[id]
	if !ok {
		return Session{}, false
	}
	return *s, true
}

// Sessions returns every open session, sorted by id.
func (f *FSM) Sessions() []Session {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Session, 0, len(f.sessions))
	for _, s := range f.sessions {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Apply implements raft.FSM.
func (f *FSM) Apply(l *raft.Log) interface{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applyLog(l)
}

// ApplyBatch implements raft.BatchingFSM: one lock round for a whole batch.
func (f *FSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range logs {
		out[i] = f.applyLog(l)
	}
	return out
}

// applyLog applies a command or a membership change; other entries are not
// the state machine's.
func (f *FSM) applyLog(l *raft.Log) interface{} {
	zxid := int64(l.Index)
	switch l.Type {
	case raft.LogCommand:
		res := f.applyLocked(zxid, l.Data)
		f.lastZxid.Store(zxid)
		return res
	case raft.LogConfiguration:
		// A membership change is a transaction as in ZooKeeper: it takes a
		// zxid, and /zookeeper/config shows the new members.
		if h := f.opts.Hooks.ConfigData; h != nil {
			if data := h(raft.DecodeConfiguration(l.Data), l.Index); data != nil {
				if _, err := f.tree.SetConfig(tree.Txn{Zxid: zxid, Time: f.lastTime}, data); err != nil {
					f.log.Error("membership change not shown in /zookeeper/config", zap.Int64("zxid", zxid), zap.Error(err))
				}
				f.fire(zxid)
			}
		}
		f.lastZxid.Store(zxid)
		return &Result{Zxid: zxid}
	}
	return nil
}

func (f *FSM) applyLocked(zxid int64, data []byte) *Result {
	e, err := Unmarshal(data)
	if err != nil {
		// Entries are written by our own proposer; a bad one is a bug, but it
		// must not stop the replica, and every replica fails it the same way.
		f.log.Error("undecodable log entry", zap.Int64("zxid", zxid), zap.Error(err))
		return &Result{Zxid: zxid, Err: proto.ErrMarshallingError}
	}
	tx := tree.Txn{Zxid: zxid, Time: e.Time}
	f.lastTime = max(f.lastTime, e.Time)
	res := &Result{Zxid: zxid}
	switch e.Type {
	case EntryCreateSession:
		s := &Session{ID: e.Session, Passwd: e.Passwd, Timeout: e.Timeout, Owner: e.Node}
		f.sessions[s.ID] = s
		if h := f.opts.Hooks.SessionCreated; h != nil {
			h(*s)
		}
	case EntryMoveSession:
		s, ok := f.sessions[e.Session]
		if !ok {
			res.Err = proto.ErrSessionExpired
			break
		}
		s.Owner = e.Node
		if h := f.opts.Hooks.SessionMoved; h != nil {
			h(e.Session, e.Node)
		}
	case EntryCloseSession:
		if s, ok := f.sessions[e.Session]; ok && movedAway(s, e) {
			res.Err = proto.ErrSessionMoved
		} else if ok {
			f.tree.CloseSession(tx, e.Session)
			delete(f.sessions, e.Session)
			if h := f.opts.Hooks.SessionClosed; h != nil {
				h(e.Session)
			}
		}
	case EntryReap:
		if err := f.tree.DeleteContainer(tx, e.Path); err != nil {
			res.Err = proto.Code(err)
		}
	case EntryRequest:
		s, ok := f.sessions[e.Session]
		if !ok {
			res.Err = proto.ErrSessionExpired
			break
		}
		if movedAway(s, e) {
			res.Err = proto.ErrSessionMoved
			break
		}
		f.applyRequest(tx, e, res)
	}
	f.fire(zxid)
	return res
}

// movedAway reports that e was proposed for a client by a server that no
// longer owns its session: the client has re-attached elsewhere.
func movedAway(s *Session, e *Entry) bool {
	return s.Owner != 0 && e.Node != 0 && s.Owner != e.Node
}

func (f *FSM) applyRequest(tx tree.Txn, e *Entry, res *Result) {
	if e.Op == proto.OpDeleteContainer {
		// ZooKeeper 3.8.0 reads a client's deleteContainer path wrongly and
		// always fails it with -8; containers are reaped by EntryReap instead.
		res.Err = proto.ErrBadArguments
		return
	}
	rec, err := proto.DecodeRequest(e.Op, e.Body, f.opts.MaxBuffer)
	if err != nil {
		res.Err = proto.ErrMarshallingError
		return
	}
	c := tree.Caller{Session: e.Session, Ids: e.Ids, Super: e.Super}
	switch r := rec.(type) {
	case *proto.CreateRequest:
		path, st, err := f.tree.Create(tx, c, e.Op, r.Path, r.Data, r.ACL, r.Flags, 0)
		res.Err = proto.Code(err)
		if err == nil {
			res.Resp = createResponse(e.Op, path, st)
		}
	case *proto.CreateTTLRequest:
		path, st, err := f.tree.Create(tx, c, e.Op, r.Path, r.Data, r.ACL, r.Flags, r.TTL)
		res.Err = proto.Code(err)
		if err == nil {
			res.Resp = createResponse(e.Op, path, st)
		}
	case *proto.DeleteRequest:
		res.Err = proto.Code(f.tree.Delete(tx, c, r.Path, r.Version))
	case *proto.SetDataRequest:
		st, err := f.tree.SetData(tx, c, r.Path, r.Data, r.Version)
		res.Err = proto.Code(err)
		if err == nil {
			res.Resp = &proto.StatResponse{Stat: st}
		}
	case *proto.SetACLRequest:
		st, err := f.tree.SetACL(tx, c, r.Path, r.ACL, r.Version)
		res.Err = proto.Code(err)
		if err == nil {
			res.Resp = &proto.StatResponse{Stat: st}
		}
	case *proto.ReconfigRequest:
		res.Err = proto.ErrReconfigDisabled
	case *proto.MultiRequest:
		if e.Op != proto.OpMulti || (len(r.Ops) > 0 && r.ReadOnly()) {
			res.Err = proto.ErrMarshallingError
			return
		}
		if err := tree.ValidateMulti(r.Ops); err != nil {
			res.Err = proto.Code(err)
			return
		}
		// multi always answers err 0 with per-op results (§7.2).
		res.Resp = &proto.MultiResponse{Results: f.tree.Multi(tx, c, r.Ops)}
	default:
		res.Err = proto.ErrUnimplemented
	}
}

func createResponse(op proto.OpCode, path string, st proto.Stat) proto.Record {
	if op == proto.OpCreate {
		return &proto.CreateResponse{Path: path}
	}
	return &proto.Create2Response{Path: path, Stat: st}
}

// fire hands the tree's events to the watch manager, in the order they happened.
func (f *FSM) fire(zxid int64) {
	for _, ev := range f.tree.TakeEvents() {
		f.watches.Trigger(watch.Event{Type: ev.Type, Path: ev.Path, Zxid: zxid})
	}
}

// Snapshot implements raft.FSM. Under the lock it only freezes the tree
// (its znodes become copy-on-write) and copies the session table; Persist
// encodes them beside later applies.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	f.freezeMu.Lock()
	defer f.freezeMu.Unlock()
	sessions := make(map[int64]*Session, len(f.sessions))
	for id, s := range f.sessions {
		c := *s
		sessions[id] = &c
	}
	return &frozenState{zxid: f.lastZxid.Load(), lastTime: f.lastTime, sessions: sessions, frozen: f.tree.Freeze()}, nil
}

// Restore implements raft.FSM: it replaces the whole state.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	snap, err := readSnapshot(rc, f.treeOptions())
	if err != nil {
		return err
	}
	f.mu.Lock()
	old := f.tree
	f.tree, f.sessions, f.lastTime = snap.tree, snap.sessions, snap.lastTime
	zxid := snap.zxid
	f.lastZxid.Store(zxid)
	f.mu.Unlock()
	if snap.tree.NodeCount()+old.NodeCount() >= returnMemoryAfter {
		// The decoder's scratch and the replaced tree are garbage now, and
		// the runtime would keep their pages: a 1M-znode restore left RSS
		// 40% above the live heap. One forced collection returns them
		// (about a tenth of the restore's time).
		old, snap = nil, nil
		debug.FreeOSMemory()
	}
	if h := f.opts.Hooks.Restored; h != nil {
		h()
	}
	return nil
}

// returnMemoryAfter is the znode count (restored plus replaced) from which a
// restore hands the freed memory back to the OS at once.
const returnMemoryAfter = 100_000

// SessionTimeouts returns every open session's timeout, for the liveness tracker.
func (f *FSM) SessionTimeouts() map[int64]time.Duration {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make(map[int64]time.Duration, len(f.sessions))
	for id, s := range f.sessions {
		out[id] = time.Duration(s.Timeout) * time.Millisecond
	}
	return out
}
