package server

import (
	"fmt"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/fourlw"
	"github.com/herd-io/herd/server/metrics"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
)

// opsMetrics holds the figures that must be recorded as they happen (the
// rest are read from the server's state when asked for, see Stats).
type opsMetrics struct {
	read, update *metrics.Summary // request latencies (readlatency, updatelatency)
	fsync        *metrics.Summary // Raft log writes (fsynctime)
	snapshot     *metrics.Summary // snapshot writes (snapshottime)
	election     *metrics.Summary // time without a leader (election_time)

	leaderChanges atomic.Int64
	slowFsyncs    atomic.Int64 // log writes over fsyncWarning

	regOnce  sync.Once
	registry *prometheus.Registry
}

func newOpsMetrics() *opsMetrics {
	return &opsMetrics{
		read:     metrics.NewSummary("readlatency", metrics.Advanced),
		update:   metrics.NewSummary("updatelatency", metrics.Advanced),
		fsync:    metrics.NewSummary("fsynctime", metrics.Basic),
		snapshot: metrics.NewSummary("snapshottime", metrics.Basic),
		election: metrics.NewSummary("election_time", metrics.Basic),
	}
}

func (m *opsMetrics) summaries() []*metrics.Summary {
	return []*metrics.Summary{m.read, m.update, m.fsync, m.snapshot, m.election}
}

// fsyncWarning is ZooKeeper's fsync.warningthresholdms default.
const fsyncWarning = time.Second

func (m *opsMetrics) observers() cluster.Observers {
	return cluster.Observers{
		LogWrite: func(d time.Duration) {
			m.fsync.Observe(d)
			if d > fsyncWarning {
				m.slowFsyncs.Add(1)
			}
		},
		Snapshot: m.snapshot.Observe,
	}
}

// requestDone records an answered request: its latency by kind and, past
// Config.SlowRequest, a warning.
func (c *conn) requestDone(s *slot, d time.Duration) {
	m := c.srv.ops
	switch {
	case s.proposal != nil:
		m.update.Observe(d)
	case s.reply == nil && s.async == nil:
		m.read.Observe(d)
	}
	if t := c.srv.cfg.SlowRequest; t > 0 && d >= t {
		c.log.Warn("slow request", zap.Stringer("op", s.hdr.Op), zap.Int32("xid", s.hdr.Xid),
			zap.Duration("took", d), zap.Duration("threshold", t))
	}
}

// leadershipSeen tracks elections for metrics: how long the node went
// without a leader (election_time) and how many leaders it has seen.
type leadershipSeen struct {
	leader    int
	term      uint64
	lostSince time.Time // when the node last had no leader; zero while it has one
}

func (l *leadershipSeen) update(m *opsMetrics, st cluster.State, now time.Time) {
	switch {
	case st.Leader == 0:
		if l.lostSince.IsZero() {
			l.lostSince = now
		}
	default:
		if !l.lostSince.IsZero() {
			m.election.Observe(now.Sub(l.lostSince))
			l.lostSince = time.Time{}
		}
		if st.Leader != l.leader || st.Term != l.term {
			m.leaderChanges.Add(1)
			l.leader, l.term = st.Leader, st.Term
		}
	}
}

// Stats returns the node's figures now: what srvr, mntr, the AdminServer and
// the Prometheus scrape all report.
func (s *Server) Stats() fourlw.ServerStats {
	cs := s.node.State()
	st := fourlw.ServerStats{
		Serving:         cs.Ready,
		Mode:            cs.Role.String(),
		PacketsReceived: s.stats.received.Load(),
		PacketsSent:     s.stats.sent.Load(),
		Zxid:            s.fsm.LastZxid(),
		Uptime:          time.Since(s.started),
		WatchCount:      int64(s.watches.Count()),
		GlobalSessions:  int64(len(s.fsm.Sessions())),
		AuthFailedCount: s.stats.authFailed.Load(),
	}
	if s.clustered() {
		ls := s.node.LeaderStats()
		st.QuorumSize = int64(ls.Voters)
		st.Learners = int64(ls.Learners)
		st.SyncedFollowers = int64(ls.SyncedFollowers)
		st.SyncedObservers = int64(ls.SyncedObservers)
	}
	st.ProposalSizeLast, st.ProposalSizeMin, st.ProposalSizeMax = s.node.ProposalSizes()
	st.LatencyMin, st.LatencyAvg, st.LatencyMax = s.stats.latency.get()
	conns := s.connList()
	st.Connections = int64(len(conns))
	for _, c := range conns {
		st.Outstanding += int64(len(c.slots))
	}
	s.fsm.Read(func(t *tree.Tree) {
		st.NodeCount = int64(t.NodeCount())
		st.EphemeralsCount = int64(t.EphemeralCount())
		st.ApproximateDataSize = t.ApproximateDataSize()
	})
	st.OpenFileDescriptors, st.MaxFileDescriptors = fourlw.ProcessFileDescriptors()
	st.DataDirSize, st.LogDirSize = s.diskUsage()
	for _, sm := range s.ops.summaries() {
		st.Summaries = append(st.Summaries, sm.Stats())
	}
	st.FsyncThresholdExceeded = s.ops.slowFsyncs.Load()
	rs := s.node.RaftStats()
	st.Raft = fourlw.RaftStats{Term: rs.Term, CommitIndex: rs.CommitIndex, AppliedIndex: rs.AppliedIndex,
		LastContact: rs.LastContact, LeaderChanges: s.ops.leaderChanges.Load(),
		LastSnapshotIndex: rs.LastSnapshotIndex, LastSnapshotDuration: rs.LastSnapshotDuration}
	return st
}

// Source returns the live data the four-letter words print, for other
// front ends (the AdminServer's /commands).
func (s *Server) Source() fourlw.Source { return fourLetterSource{srv: s} }

// Metrics returns a Prometheus registry of the node's figures under
// ZooKeeper's names (see package metrics). Serve it with metrics.Handler.
func (s *Server) Metrics() *prometheus.Registry {
	s.ops.regOnce.Do(func() { s.ops.registry = metrics.NewRegistry(s.Stats, s.ops.summaries()...) })
	return s.ops.registry
}

// clientPort returns the port of the plain client listener, for conf when
// no connection asks (the AdminServer); 0 before Serve. A TLS listener
// (secureClientPort) is not the clientPort, so crypto/tls's is passed over
// while another exists.
func (s *Server) clientPort() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	port := 0
	for l := range s.listeners {
		ta, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			continue
		}
		if t := reflect.TypeOf(l); t.Kind() == reflect.Pointer && t.Elem().PkgPath() == "crypto/tls" {
			if port == 0 {
				port = ta.Port
			}
			continue
		}
		return ta.Port
	}
	return port
}

func sessionField(id int64) zap.Field { return zap.String("session", fmt.Sprintf("0x%x", id)) }

// Znode is one node of the tree as a read-only browser shows it.
type Znode struct {
	Path string
	// Data is nil when the node has none or Readable is false.
	Data []byte
	Stat proto.Stat
	// Children are the child names, sorted; nil when Readable is false.
	Children []string
	// Readable is false when the node's ACL does not let an unauthenticated
	// client read it: the browser shows its stat only.
	Readable bool
}

// Znode returns the node at path as an unauthenticated client may see it
// (world:anyone), for the web view. It fails with proto.ErrNoNode (wrapped)
// when there is no such node.
func (s *Server) Znode(path string) (Znode, error) {
	z := Znode{Path: path}
	var err error
	s.fsm.Read(func(t *tree.Tree) {
		st, ok := t.Stat(path)
		if !ok {
			err = fmt.Errorf("server: %q: %w", path, proto.ErrNoNode)
			return
		}
		z.Stat = st
		var cerr, derr error
		z.Children, _, cerr = t.GetChildren(tree.Caller{}, path)
		z.Data, _, derr = t.GetData(tree.Caller{}, path)
		z.Readable = cerr == nil && derr == nil
		if !z.Readable {
			z.Children, z.Data = nil, nil
		}
		// The tree's buffers are reused under its lock; the copy outlives it.
		z.Data = append([]byte(nil), z.Data...)
	})
	return z, err
}
