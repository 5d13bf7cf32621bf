// Package server is herd's ZooKeeper-protocol server: it accepts ZooKeeper
// clients on a listener and serves them from a data tree replicated with Raft.
//
// A Server is shaped like net/http's: configure it with a Config, create it with
// New (which opens the data directory and starts Raft), then call Serve with a
// listener (or ListenAndServe) and Shutdown to stop.
//
//	srv, err := server.New(ctx, server.Config{DataDir: dir})
//	if err != nil { ... }
//	go srv.Serve(listener)
//	defer srv.Shutdown(ctx)
//
// The request path keeps ZooKeeper's guarantees: responses leave each connection
// in request order, a read sees every earlier write of its connection, and a
// watch notification reaches a client before any response that reflects the
// change that fired it.
//
// With Config.Servers (zoo.cfg's server.N lines) the node is a member of a
// cluster (see server/cluster and docs/cluster.md): every member serves
// clients, reads from its own replica, forwards writes to the leader and
// answers them once it has applied them itself; sessions are cluster-wide,
// their liveness decided by the leader.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/fsm"
	"github.com/herd-io/herd/server/session"
	"github.com/herd-io/herd/server/tree"
	"github.com/herd-io/herd/server/watch"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

// Server is one herd node.
type Server struct {
	cfg     Config
	log     *zap.Logger
	fsm     *fsm.FSM
	watches *watch.Manager
	tracker *session.Tracker
	node    *cluster.Node
	started time.Time
	stats   serverStats
	ops     *opsMetrics // summaries and election counts (ops.go)
	budget  *budget     // server-wide memory held for clients (budget.go)
	health  writeHealth // whether the log can be written (health.go)

	// mu guards the connection tables. Lock order: the FSM's lock may be held
	// when mu is taken (its hooks run under it), so never call into the FSM
	// while holding mu.
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	bySession map[int64]*conn
	perIP     map[string]int
	closed    bool

	sidMu   sync.Mutex
	lastSID int64

	touched touches // sessions seen alive here, for the leader (liveness.go)

	done chan struct{}
	wg   sync.WaitGroup
}

// New opens cfg.DataDir, recovers the tree and sessions from the Raft log and
// snapshots, and starts Raft. A standalone server is ready to serve when New
// returns (it waits for that, or until ctx ends). A cluster member returns
// once Raft runs and serves clients whenever it knows a leader; until then it
// closes their connections so they try another server. New does not listen:
// call Serve.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: Config.DataDir is required")
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		watches:   watch.NewManager(),
		tracker:   session.NewTracker(cfg.TickTime),
		started:   time.Now(),
		budget:    newBudget(cfg),
		ops:       newOpsMetrics(),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		bySession: map[int64]*conn{},
		perIP:     map[string]int{},
		done:      make(chan struct{}),
	}
	s.fsm = fsm.New(s.watches, fsm.Options{
		MaxBuffer:     cfg.MaxBuffer,
		ExtendedTypes: cfg.ExtendedTypes,
		EnforceQuota:  cfg.EnforceQuota,
		Logger:        cfg.Logger.Named("fsm"),
		Hooks: fsm.Hooks{
			SessionCreated: func(ss fsm.Session) {
				s.tracker.Add(ss.ID, time.Duration(ss.Timeout)*time.Millisecond, time.Now())
			},
			SessionClosed: s.sessionClosed,
			SessionMoved:  s.sessionMoved,
			Restored: func() {
				s.tracker.Reset(s.fsm.SessionTimeouts(), time.Now())
			},
		},
	})
	if len(cfg.Servers) > 0 {
		// In a cluster /zookeeper/config shows the members, as ZooKeeper's does.
		s.fsm.SetConfigRenderer(cluster.ConfigText)
	}
	node, err := cluster.Open(ctx, cluster.Config{
		ID:                cfg.ServerID,
		Members:           cfg.Servers,
		DataDir:           cfg.DataDir,
		DataLogDir:        cfg.DataLogDir,
		FSM:               s.fsm,
		Timing:            cfg.Raft,
		SnapshotThreshold: uint64(cfg.SnapCount),
		TrailingLogs:      uint64(cfg.TrailingLogs),
		LogSegmentSize:    cfg.LogSegmentSize,
		SnapshotsRetained: cfg.SnapshotsRetained,
		PeerListener:      cfg.PeerListener,
		ElectionListener:  cfg.ElectionListener,
		Faults:            cfg.PeerFaults,
		StorageFaults:     cfg.storageFaults,
		Logger:            cfg.Logger.Named("cluster"),
		Observers:         s.ops.observers(),
		Handlers: map[string]cluster.Handler{
			methodTouch:      s.handleTouch,
			methodRevalidate: s.handleRevalidate,
			methodReconfig:   s.handleReconfig,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.node = node
	if len(cfg.Servers) == 0 {
		if err := node.WaitReady(ctx); err != nil {
			node.Shutdown()
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	// Sessions recovered from the log get a full timeout to come back.
	s.tracker.Reset(s.fsm.SessionTimeouts(), time.Now())
	s.wg.Add(4)
	go s.followLeadership(node.State().Leading())
	go s.every(cfg.TickTime, s.expire)
	go s.every(cfg.TickTime/2, s.sendTouches)
	go s.every(cfg.ContainerCheckInterval, s.reap)
	s.log.Info("herd server started", zap.String("dataDir", cfg.DataDir), zap.Int("myid", cfg.ServerID),
		zap.Int("servers", len(cfg.Servers)), zap.Int64("zxid", s.fsm.LastZxid()), zap.Int("sessions", s.tracker.Len()))
	return s, nil
}

// ListenAndServe listens on addr (host:port) and serves until Shutdown.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	return s.Serve(l)
}

// Serve accepts connections on l until Shutdown, and closes l. It returns
// ErrServerClosed after Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	s.log.Info("serving clients", zap.String("addr", l.Addr().String()))
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return ErrServerClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Temporary accept failure (e.g. out of descriptors): back off.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		delay = 0
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	ip := remoteIP(nc.RemoteAddr())
	s.mu.Lock()
	if s.closed || (s.cfg.MaxClientCnxns > 0 && s.perIP[ip] >= s.cfg.MaxClientCnxns) {
		s.mu.Unlock()
		if !s.closed {
			s.log.Warn("too many connections from one address", zap.String("ip", ip),
				zap.Int("max", s.cfg.MaxClientCnxns))
		}
		nc.Close()
		return
	}
	c := newConn(s, nc, ip)
	s.conns[c] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

// connList returns the open connections at this moment.
func (s *Server) connList() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
	if sid := c.session(); sid != 0 && s.bySession[sid] == c {
		delete(s.bySession, sid)
	}
}

// bind makes c the connection of session sid and returns the connection it
// replaces, if any (a client that re-attached elsewhere).
func (s *Server) bind(sid int64, c *conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.bySession[sid]
	s.bySession[sid] = c
	if old == c {
		return nil
	}
	return old
}

// sessionClosed runs when a session's close is applied: its connection, if any,
// is closed (an expired client learns of it when it reconnects).
func (s *Server) sessionClosed(id int64) {
	s.tracker.Remove(id)
	s.mu.Lock()
	c := s.bySession[id]
	delete(s.bySession, id)
	s.mu.Unlock()
	if c != nil && !c.closingSession.Load() {
		c.closeAsync()
	}
}

// sessionMoved runs when a session's move to server owner is applied: the
// connection this server holds for it, if owner is another server, is
// closed (the client is attached there now).
func (s *Server) sessionMoved(id int64, owner int32) {
	if int(owner) == s.cfg.ServerID {
		return
	}
	s.mu.Lock()
	c := s.bySession[id]
	delete(s.bySession, id)
	s.mu.Unlock()
	if c != nil {
		c.log.Info("session moved to another server; closing", zap.Int32("server", owner))
		c.closeAsync()
	}
}

// nodeID is this server's id as log entries carry it: 0 when standalone.
func (s *Server) nodeID() int32 {
	if !s.clustered() {
		return 0
	}
	return int32(s.cfg.ServerID)
}

// clustered reports whether this server is a member of a cluster.
func (s *Server) clustered() bool { return len(s.cfg.Servers) > 0 }

// serving reports whether clients may be served now.
func (s *Server) serving() bool { return s.node.State().Ready }

// Cluster returns the node's replication seam (leadership, applied index,
// membership), for inspection and tests.
func (s *Server) Cluster() *cluster.Node { return s.node }

// newSessionID picks an id as ZooKeeper does — time in the middle bits, the
// server id in the top byte — and above every id handed out before.
func (s *Server) newSessionID() int64 {
	// Not s.mu: FSM hooks take s.mu under the FSM lock, and this reads the FSM.
	s.sidMu.Lock()
	defer s.sidMu.Unlock()
	// A logical shift, as Java's >>>: the top byte is left for the server id.
	id := int64(uint64(time.Now().UnixMilli())<<24>>8) | int64(s.cfg.ServerID&0xff)<<56
	if id <= s.lastSID {
		id = s.lastSID + 1
	}
	for {
		if _, taken := s.fsm.Session(id); !taken && id != 0 {
			break
		}
		id++
	}
	s.lastSID = id
	return id
}

func newPassword() []byte {
	p := make([]byte, 16)
	_, _ = rand.Read(p)
	return p
}

// every runs fn at each interval until the server shuts down.
func (s *Server) every(interval time.Duration, fn func(now time.Time)) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// followLeadership starts the leader-only duties' state each time this node
// becomes the leader: sessions recovered from the log, or led by the previous
// leader, get a full timeout to show they are alive before anything expires.
//
// It also stops serving when the node has had no leader for LeaderWait: a
// node that cannot commit must not hold clients, who would wait on it instead
// of moving on. (An election usually ends sooner, and clients are then spared
// a reconnect.)
func (s *Server) followLeadership(leading bool) {
	defer s.wg.Done()
	var term uint64
	if leading {
		term = s.node.State().Term
	}
	var giveUp <-chan time.Time
	var timer *time.Timer
	var seen leadershipSeen
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		changed := s.node.Changed()
		st := s.node.State()
		seen.update(s.ops, st, time.Now())
		// A new term counts even if the moments between two leaderships went
		// unseen: the deadlines of the old one are stale.
		if st.Leading() && (!leading || st.Term != term) {
			s.tracker.Reset(s.fsm.SessionTimeouts(), time.Now())
			s.log.Info("leading", zap.Uint64("term", st.Term), zap.Int("sessions", s.tracker.Len()))
			term = st.Term
		}
		leading = st.Leading()
		switch {
		case st.Ready && timer != nil:
			timer.Stop()
			timer, giveUp = nil, nil
		case !st.Ready && timer == nil:
			timer = time.NewTimer(s.node.LeaderWait())
			giveUp = timer.C
		}
		select {
		case <-changed:
		case <-giveUp:
			timer, giveUp = nil, nil
			if s.node.State().Ready {
				continue
			}
			conns := s.connList()
			if len(conns) > 0 {
				s.log.Info("no leader: closing client connections", zap.Int("connections", len(conns)))
			}
			for _, c := range conns {
				c.closeAsync()
			}
			// Keep closing new ones while this lasts (handshakes refuse them too).
			timer = time.NewTimer(s.node.LeaderWait())
			giveUp = timer.C
		case <-s.done:
			return
		}
	}
}

// leading reports whether this node performs the leader-only duties now.
func (s *Server) leading() bool { return s.node.State().Leading() }

// expire closes sessions whose clients went silent for their timeout.
func (s *Server) expire(now time.Time) {
	if !s.leading() || !s.canWrite(now) {
		return
	}
	for _, id := range s.tracker.Expired(now) {
		s.log.Debug("session expired", sessionField(id))
		e := fsm.Entry{Type: fsm.EntryCloseSession, Time: now.UnixMilli(), Session: id}
		if _, err := s.propose(&e); err != nil {
			s.log.Warn("could not close expired session", zap.Error(err))
		}
	}
}

// reap deletes empty containers and expired TTL nodes.
func (s *Server) reap(now time.Time) {
	if !s.leading() || !s.canWrite(now) {
		return
	}
	var paths []string
	s.fsm.Read(func(t *tree.Tree) { paths = t.ExpiredNodes(now.UnixMilli()) })
	for _, p := range paths {
		e := fsm.Entry{Type: fsm.EntryReap, Time: now.UnixMilli(), Path: p}
		if _, err := s.propose(&e); err != nil {
			s.log.Warn("could not reap node", zap.String("path", p), zap.Error(err))
			return
		}
	}
}

// propose appends e to the log and waits until it is applied on this node,
// riding out a leader election (cluster.Node.ProposeWait).
func (s *Server) propose(e *fsm.Entry) (*fsm.Result, error) {
	applied, err := s.node.ProposeWait(context.Background(), e.Marshal())
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	res, ok := applied.Response.(*fsm.Result)
	if !ok {
		return nil, fmt.Errorf("server: entry %d applied without a result", applied.Index)
	}
	return res, nil
}

// result waits for a proposal and unwraps the FSM's result.
func result(p *cluster.Proposal) (*fsm.Result, error) {
	applied, err := p.Wait()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	res, ok := applied.Response.(*fsm.Result)
	if !ok {
		return nil, fmt.Errorf("server: entry %d applied without a result", applied.Index)
	}
	return res, nil
}

// Shutdown stops accepting, closes every connection and stops Raft. Sessions
// are not closed: they survive in the log and clients may re-attach after a
// restart within their timeout.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	// accept refuses new connections from here on, so the list is complete.
	for _, c := range s.connList() {
		c.closeAsync()
	}
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	// While the log cannot be written (a full disk, now or from any moment
	// of the wait), connections wait on writes that only the node's
	// shutdown ends, so they are not waited for.
	err := s.awaitConns(ctx, waited)
	if rerr := s.node.Shutdown(); err == nil {
		err = rerr
	}
	if err == nil {
		<-waited
	}
	return err
}

// shutdownHealthCheck is how often a graceful stop that waits for its
// connections checks whether the log has become unwritable meanwhile.
const shutdownHealthCheck = 50 * time.Millisecond

// awaitConns waits until the connections are done (waited closes), ctx ends,
// or the log cannot be written, whichever comes first; only ctx's end is an
// error.
func (s *Server) awaitConns(ctx context.Context, waited <-chan struct{}) error {
	if s.node.Health() != nil {
		return nil
	}
	tick := time.NewTicker(shutdownHealthCheck)
	defer tick.Stop()
	for {
		select {
		case <-waited:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if s.node.Health() != nil {
				return nil
			}
		}
	}
}

// Close stops the server at once, as a crash would: connections are
// dropped and Raft stops without handing leadership over. Sessions survive
// in the log. Use Shutdown for a graceful stop.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	for _, c := range s.connList() {
		c.closeAsync()
	}
	err := s.node.Kill()
	s.wg.Wait()
	return err
}

// ExpireSession ends session id as its expiry on the leader would: the
// session is closed in the log, its ephemeral nodes are deleted, its
// watches dropped, and the connection it has (at whichever node) is closed,
// so its client learns on reconnecting that it expired. Nothing touches the
// connection first, so the client cannot re-attach the session in between.
// A session that does not exist is left alone. It is for tests (herdtest).
func (s *Server) ExpireSession(ctx context.Context, id int64) error {
	e := fsm.Entry{Type: fsm.EntryCloseSession, Time: time.Now().UnixMilli(), Session: id}
	if _, err := s.node.ProposeWait(ctx, e.Marshal()); err != nil {
		return fmt.Errorf("server: expire session 0x%x: %w", id, err)
	}
	return nil
}

// LastZxid returns the zxid of the last write applied on this node.
func (s *Server) LastZxid() int64 { return s.fsm.LastZxid() }

type serverStats struct {
	received, sent atomic.Int64
	authFailed     atomic.Int64 // rejected auth packets (mntr zk_auth_failed_count)
	latency        latencies
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
