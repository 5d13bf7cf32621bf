package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"go.uber.org/zap"

	"github.com/herd-io/herd/internal/zaphclog"
	"github.com/herd-io/herd/server/storage"
)

// snapshotCheckInterval is how often raft asks whether SnapshotThreshold
// entries have accumulated since the last snapshot.
const snapshotCheckInterval = 5 * time.Second

// logCacheSize is how many recent log entries are kept in memory.
const logCacheSize = 8192

// Node is one server's Raft machinery. Create it with Open; stop it with
// Shutdown.
type Node struct {
	cfg         Config
	log         *zap.Logger
	id          int // the Raft id as a number (cfg.ID, or 1 for a standalone node)
	raftID      raft.ServerID
	self        uint64 // id stamped into envelopes
	incarnation uint64
	seq         atomic.Uint64

	timing Timing
	raft   *raft.Raft
	store  *storage.Store
	trans  raft.Transport
	fsm    *appliedFSM

	// A cluster member's network (nil listeners for a standalone node).
	electionL net.Listener
	started   atomic.Bool // raft is running (n.raft may be used)

	peerMu     sync.Mutex
	peerConns  map[*peerConn]struct{}
	peerClosed bool

	fwMu sync.Mutex
	fw   *forwarder

	futures      chan localFuture // raft futures of entries appended here, in order
	applyMu      sync.RWMutex     // guards applyClosed: see apply
	applyClosed  bool
	nudgeCh      chan struct{} // see nudgeCommit
	nudgeMark    atomic.Uint64 // the last index when a batch was applied (nudgeCommit)
	appliedMu    sync.Mutex
	appliedLast  [2]uint64         // index and term of the last entry applied as leader (nudgeCommit)
	nudges       atomic.Uint64     // nudge entries appended
	commits      *committer        // commit messages from the leader (commit.go); nil standalone
	commitsGiven atomic.Uint64     // commit messages raft took
	commitsTried atomic.Uint64     // commit messages raft answered
	logs         raft.LogStore     // raft's log store, for entries' terms (presend.go)
	ahead        chan aheadBatch   // batches the leader sent ahead (presend.go)
	aheadWake    chan struct{}     // poked after each log write (presend.go)
	aheadRuns    *aheadRuns        // what followers answered to batches sent ahead (aheadanswer.go)
	toldCommit   map[int][2]uint64 // per peer, term and index of the last commit message queued to it (tellCommit; under peerMu)
	handingOver  atomic.Bool       // leadership transfer begun: AppendEntries are not spared
	aheadGiven   atomic.Uint64     // batches sent ahead that raft took
	doubtMu      sync.Mutex
	inDoubt      []doubtful

	proposalLast, proposalMin, proposalMax atomic.Int64 // bytes; 0 = none yet

	reconfigMu sync.Mutex
	reportMu   sync.Mutex
	reports    map[int]report

	stateMu sync.Mutex
	state   State
	changed chan struct{}
	pokeCh  chan struct{}

	markerMu   sync.Mutex
	markerTerm uint64    // the term whose marker was proposed
	readyTerm  uint64    // the term whose marker was applied
	syncing    followKey // the leader this follower is catching up with
	synced     followKey // the leader it has caught up with

	done     chan struct{}
	shutOnce sync.Once
	shutErr  error
	wg       sync.WaitGroup
}

// Open opens the stores under cfg.DataDir and starts Raft. It does not wait
// for a leader: see WaitReady.
//
// A standalone node's fresh data directory is bootstrapped as a one-voter
// cluster. A cluster member listens on its peer port (Raft) and election port
// (herd's forwarding and calls); with a fresh data directory it asks the other
// members how to start (see decideBootstrap) and refuses, naming the zoo.cfg
// line, when its server list disagrees with theirs.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	n := &Node{
		cfg:        cfg,
		log:        cfg.Logger,
		id:         max(cfg.ID, 1),
		changed:    make(chan struct{}),
		pokeCh:     make(chan struct{}, 1),
		done:       make(chan struct{}),
		peerConns:  map[*peerConn]struct{}{},
		toldCommit: map[int][2]uint64{},
		reports:    map[int]report{},
		futures:    make(chan localFuture, 4096),
		nudgeCh:    make(chan struct{}, 1),
	}
	base := DefaultTiming
	if cfg.Standalone() {
		base = standaloneTiming
	}
	n.timing = cfg.Timing.withDefaults(base)
	if answerAhead && !cfg.Standalone() {
		// Before the peer ports open: serveHerd reads it.
		n.aheadRuns = newAheadRuns(n.timing.HeartbeatTimeout / 2)
	}
	n.raftID = raft.ServerID(strconv.Itoa(n.id))
	n.self = uint64(n.id)
	var inc [8]byte
	_, _ = rand.Read(inc[:])
	n.incarnation = binary.BigEndian.Uint64(inc[:])
	n.fsm = newAppliedFSM(cfg.FSM, n.self, n.incarnation)
	if !cfg.Standalone() {
		n.fsm.afterApply = n.nudgeCommit
	}
	n.fsm.faults, n.fsm.stop = cfg.Faults, n.done
	n.fsm.observeSnapshot = cfg.Observers.Snapshot

	// Raft's messages arrive at their own level, with their fields. A
	// standalone node's one-voter election at start is no cause for a warning.
	var hopts []zaphclog.Option
	if cfg.Standalone() {
		hopts = append(hopts, zaphclog.Demote("heartbeat timeout reached, starting election", zap.InfoLevel))
	}
	hlog := zaphclog.New(cfg.Logger.Named("raft"), hopts...)
	store, err := storage.Open(storage.Options{Dir: cfg.DataDir, LogDir: cfg.DataLogDir,
		SegmentSize: cfg.LogSegmentSize, SnapshotsRetained: cfg.SnapshotsRetained, FailWrite: cfg.Faults.storageHook(cfg.StorageFaults), Logger: hlog})
	if err != nil {
		closeListeners(cfg)
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n.store = store
	rc := n.raftConfig(hlog)
	existing, err := raft.HasExistingState(store.Log, store.Stable, store.Snapshots)
	if err != nil {
		closeListeners(cfg)
		n.abort()
		return nil, fmt.Errorf("cluster: inspect raft state: %w", err)
	}
	var boot *raft.Configuration
	if cfg.Standalone() {
		addr, trans := raft.NewInmemTransport(raft.ServerAddress(rc.LocalID))
		n.trans = trans
		if !existing {
			boot = &raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: addr, Suffrage: raft.Voter}}}
		}
	} else {
		if err := n.listen(hlog); err != nil {
			n.abort()
			return nil, err
		}
		if !existing {
			bootstrap, err := n.decideBootstrap(ctx)
			if err != nil {
				n.abort()
				return nil, err
			}
			if bootstrap {
				c := raftConfiguration(cfg.Members)
				boot = &c
			}
		}
	}
	if boot != nil {
		if err := raft.BootstrapCluster(rc, store.Log, store.Stable, store.Snapshots, n.trans, *boot); err != nil {
			n.abort()
			return nil, fmt.Errorf("cluster: bootstrap raft: %w", err)
		}
	}
	// Recent entries stay in memory: the leader reads them back to replicate,
	// and every node to apply them once committed. Measured in-process, three
	// nodes, creates: reading them from the log was 17% of the CPU.
	var logStore raft.LogStore = store.Log
	if cfg.Observers.LogWrite != nil || !cfg.Standalone() {
		logStore = timedLogStore{LogStore: store.Log, observe: cfg.Observers.LogWrite, stored: n.logStored,
			before: n.sendEntriesAhead}
	}
	logs, err := raft.NewLogCache(logCacheSize, logStore)
	if err != nil {
		n.abort()
		return nil, fmt.Errorf("cluster: log cache: %w", err)
	}
	n.logs = logs
	r, err := raft.NewRaft(rc, n.fsm, logs, store.Stable, store.Snapshots, n.trans)
	if err != nil {
		n.abort()
		return nil, fmt.Errorf("cluster: start raft: %w", err)
	}
	n.raft = r
	n.started.Store(true)
	if !cfg.Standalone() && existing {
		n.compareMembership()
	}
	n.wg.Add(3)
	go n.monitor()
	go n.watchFutures()
	go n.resolver()
	if !cfg.Standalone() {
		t := n.trans.(*commitTransport)
		n.wg.Add(5)
		go n.sendReports()
		go n.runNudges()
		go n.runCommits(t)
		go n.runAhead(t)
		go func() {
			defer n.wg.Done()
			t.relay(n.done)
		}()
	}
	return n, nil
}

// listen opens this member's election and peer ports and the Raft transport.
func (n *Node) listen(hlog hclog.Logger) error {
	self, _ := n.cfg.self()
	el := n.cfg.ElectionListener
	if el == nil {
		l, err := net.Listen("tcp", self.electionDialAddr())
		if err != nil {
			closeListeners(n.cfg)
			return fmt.Errorf("cluster: %s: election port: %w", self.Key(), err)
		}
		el = l
	}
	n.electionL = el
	pl := n.cfg.PeerListener
	if pl == nil {
		l, err := net.Listen("tcp", self.peerDialAddr())
		if err != nil {
			return fmt.Errorf("cluster: %s: peer port: %w", self.Key(), err)
		}
		pl = l
	}
	n.wg.Add(1)
	go n.acceptPeers(el, channelHerd, n.serveHerd)
	n.trans = newCommitTransport(raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  newRaftStream(n, pl, self),
		MaxPool: 3,
		Timeout: 2 * time.Second,
		Logger:  hlog,
		// One AppendEntries in flight per follower: raft v1.8.0's pipeline
		// can deadlock once a follower answers Success=false (hashicorp/raft
		// #612; grafana/pyroscope#5518 turned it off for the same reason).
		// The follower then gets heartbeats but no entries, and the leader's
		// Shutdown waits for ever: the nemesis hung on it in a restart.
		// Without the pipeline each send carries everything appended since
		// the last one, so batches grow instead.
		MaxRPCsInFlight: 1,
	}))
	n.commits = newCommitter()
	if n.aheadRuns != nil {
		t := n.trans.(*commitTransport)
		t.runs, t.done, t.spare = n.aheadRuns, n.done, n.commitForSpared
		t.handingOver = &n.handingOver
	}
	n.ahead = make(chan aheadBatch, 16)
	n.aheadWake = make(chan struct{}, 1)
	return nil
}

func closeListeners(cfg Config) {
	if cfg.PeerListener != nil {
		cfg.PeerListener.Close()
	}
	if cfg.ElectionListener != nil {
		cfg.ElectionListener.Close()
	}
}

// compareMembership logs a server list that differs from the membership a
// restarted member holds: the membership wins (reconfig may have changed it).
func (n *Node) compareMembership() {
	cur, _, err := n.Members()
	if err != nil {
		return
	}
	mine := append([]Member(nil), n.cfg.Members...)
	sortMembers(mine)
	if d := diffMembers(mine, cur, "in the cluster's membership"); d != "" {
		n.log.Warn("the server.N lines differ from the cluster's membership, which this node follows", zap.String("difference", d))
	}
}

// abort undoes a failed Open.
func (n *Node) abort() {
	close(n.done)
	n.closeNetwork()
	n.wg.Wait()
	n.closeStores()
}

func (n *Node) raftConfig(hlog hclog.Logger) *raft.Config {
	t := n.timing
	rc := raft.DefaultConfig()
	rc.LocalID = n.raftID
	rc.Logger = hlog
	rc.HeartbeatTimeout = t.HeartbeatTimeout
	rc.ElectionTimeout = t.ElectionTimeout
	rc.LeaderLeaseTimeout = t.LeaderLeaseTimeout
	rc.CommitTimeout = t.CommitTimeout
	rc.MaxAppendEntries = 512
	// Buffer applies up to MaxAppendEntries so many requests share one log
	// write and fsync. It weakens only Apply's enqueue timeout, and herd
	// applies with no timeout. Measured: it doubles write throughput
	// (BenchmarkServers create 20k → 41k ops/s, setData 20k → 48k).
	rc.BatchApplyCh = true
	// ZooKeeper's default snapCount. A snapshot writes the whole tree, so it
	// costs in proportion to the tree, and at 16384 a node under steady
	// writes spent 10–17 % of its CPU writing snapshots (pprof, three nodes,
	// bench/compare create, 500k znodes). A restart does not replay the
	// longer tail after a clean stop, which snapshots (snapshotOnStop).
	rc.SnapshotThreshold = 100000
	// raft checks the threshold only every SnapshotInterval (to twice that,
	// at random); its default of 120s let a busy node go minutes without a
	// snapshot, and a restart then replays every entry since: 1M creates in
	// 41s were 9.9s to serve again (bench/compare -mode restart, issue #13).
	rc.SnapshotInterval = snapshotCheckInterval
	if n.cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	}
	rc.TrailingLogs = 10240
	if n.cfg.TrailingLogs > 0 {
		rc.TrailingLogs = n.cfg.TrailingLogs
	}
	// A removed member stays up (and stops serving: it has no leader) rather
	// than exiting; its operator decides what to do with it.
	rc.ShutdownOnRemove = false
	return rc
}

// monitor keeps State current: on every leadership observation, and on a
// short tick as a safety net for observations raft drops when busy.
func (n *Node) monitor() {
	defer n.wg.Done()
	obsCh := make(chan raft.Observation, 16)
	obs := raft.NewObserver(obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	n.raft.RegisterObserver(obs)
	defer n.raft.DeregisterObserver(obs)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	n.refresh()
	for {
		select {
		case <-n.done:
			return
		case <-obsCh:
		case <-n.raft.LeaderCh():
		case <-n.pokeCh:
		case <-tick.C:
		}
		n.refresh()
	}
}

// WaitReady blocks until the node can serve (State().Ready) or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	for {
		ch := n.Changed()
		if n.State().Ready {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for a leader: %w", ctx.Err())
		case <-n.done:
			return ErrClosed
		}
	}
}

// observeProposal records the size of an entry this node appends as leader.
func (n *Node) observeProposal(size int) {
	v := int64(size)
	n.proposalLast.Store(v)
	for {
		cur := n.proposalMax.Load()
		if v <= cur || n.proposalMax.CompareAndSwap(cur, v) {
			break
		}
	}
	for {
		cur := n.proposalMin.Load()
		if (cur != 0 && v >= cur) || n.proposalMin.CompareAndSwap(cur, v) {
			break
		}
	}
}

// ProposalSizes returns the last, smallest and largest entry this node
// appended as leader, in bytes; -1 each before the first (srvr, mntr).
func (n *Node) ProposalSizes() (last, smallest, largest int64) {
	if n.proposalLast.Load() == 0 {
		return -1, -1, -1
	}
	return n.proposalLast.Load(), n.proposalMin.Load(), n.proposalMax.Load()
}

// ID returns this node's server id.
func (n *Node) ID() int { return n.id }

// AppliedIndex returns the index of the last entry applied on this node.
func (n *Node) AppliedIndex() uint64 { return n.fsm.appliedIndex() }

// CommitIndex returns the highest index this node knows to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// WaitApplied blocks until the entry at index has been applied on this node.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	return n.fsm.waitApplied(ctx, index, n.done)
}

// Sync waits until this node has applied everything the leader had committed
// when Sync was called: every write acknowledged anywhere before then.
func (n *Node) Sync(ctx context.Context) error {
	var index uint64
	if n.raft.State() == raft.Leader {
		i, err := n.leaderCommitIndex(ctx)
		if err != nil {
			return err
		}
		index = i
	} else {
		fw := n.forwarderNow()
		if fw == nil {
			return ErrNoLeader
		}
		reply, err := fw.call(ctx, methodSync, nil)
		if err != nil {
			return err
		}
		if len(reply) != 8 {
			return errors.New("cluster: bad sync reply")
		}
		index = binary.BigEndian.Uint64(reply)
	}
	return n.WaitApplied(ctx, index)
}

// ConfirmLeading confirms with a quorum that this node still leads (a leader
// that was frozen, by SIGSTOP or a stalled VM, may not yet know it was
// replaced), then applies every entry it knows to be committed. It fails,
// wrapping ErrNoLeader, ErrNotLeader or ErrOutcomeUnknown, when this node
// cannot confirm that it leads.
func (n *Node) ConfirmLeading(ctx context.Context) error {
	_, err := n.leaderCommitIndex(ctx)
	return err
}

// leaderCommitIndex returns, on a leader that has just confirmed it still
// leads, the index of the last real entry it had committed: what a node must
// apply to have seen every write acknowledged anywhere.
func (n *Node) leaderCommitIndex(ctx context.Context) (uint64, error) {
	if n.raft.State() != raft.Leader {
		return 0, ErrNoLeader
	}
	if err := waitFuture(ctx, n.raft.VerifyLeader()); err != nil {
		return 0, raftError(err)
	}
	// Every entry committed so far is applied here first, so that the last
	// real one among them is known (see realIndex).
	if err := n.WaitApplied(ctx, n.raft.CommitIndex()); err != nil {
		return 0, err
	}
	return n.fsm.realIndex(), nil
}

// CallLeader runs the leader's handler for method with body and returns its
// reply. On the leader it calls the handler directly. A call that cannot
// reach a leader is tried again as leadership settles, for up to
// Timing.LeaderWait; a call that reached one is never repeated.
func (n *Node) CallLeader(ctx context.Context, method string, body []byte) ([]byte, error) {
	deadline := time.Now().Add(n.timing.LeaderWait)
	for {
		changed := n.Changed()
		reply, err := n.callLeaderOnce(ctx, method, body)
		if !notAppended(err) || !n.pause(ctx, changed, deadline) {
			return reply, err
		}
	}
}

func (n *Node) callLeaderOnce(ctx context.Context, method string, body []byte) ([]byte, error) {
	if n.State().Leading() {
		h := n.cfg.Handlers[method]
		if h == nil {
			return nil, fmt.Errorf("cluster: no handler for %q", method)
		}
		return h(n.id, body)
	}
	fw := n.forwarderNow()
	if fw == nil {
		return nil, ErrNoLeader
	}
	return fw.call(ctx, method, body)
}

// LeaderWait is how long the node holds work while it has no leader
// (Timing.LeaderWait).
func (n *Node) LeaderWait() time.Duration { return n.timing.LeaderWait }

// Snapshot takes a snapshot now and compacts the log behind it.
func (n *Node) Snapshot() error {
	err := n.raft.Snapshot().Error()
	if errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil
	}
	return err
}

// Shutdown stops the node: a leader first hands leadership to another voter
// (so clients see a short pause, not an election timeout), then Raft stops and
// the stores close. Proposals still waiting fail with ErrClosed. It is safe to
// call more than once.
func (n *Node) Shutdown() error {
	n.shutOnce.Do(func() {
		if !n.cfg.Standalone() && n.raft.State() == raft.Leader && n.otherVoters() {
			// The target is elected with votes of followers whose answers
			// would still look fresh (aheadanswer.go).
			n.handingOver.Store(true)
			ctx, cancel := context.WithTimeout(context.Background(), 4*n.timing.ElectionTimeout)
			if err := waitFuture(ctx, n.raft.LeadershipTransfer()); err != nil {
				n.log.Info("leadership not handed over before shutdown", zapErr(err))
			}
			cancel()
		}
		close(n.done)
		n.interruptStores()
		n.drainApplies()
		n.snapshotOnStop()
		err := n.raft.Shutdown().Error()
		n.fsm.close()
		n.dropForwarder(ErrClosed)
		n.closeNetwork()
		n.wg.Wait()
		n.failDoubts(ErrClosed)
		if cerr := n.closeStores(); err == nil {
			err = cerr
		}
		n.shutErr = err
	})
	return n.shutErr
}

// shutdownSnapshotMin is how many entries applied since the last snapshot
// make a clean stop take a snapshot. Replaying a log tail is the slow part of
// a restart (a create entry costs about 15 µs to read and apply, a restored
// znode about 1 µs), so a stop that leaves many entries behind a snapshot
// writes one and the next start replays almost nothing; a short tail is
// cheaper to replay than a big tree is to write.
const shutdownSnapshotMin = 1024

// snapshotOnStop takes a snapshot during a clean stop when at least
// shutdownSnapshotMin entries were applied since the last one. A failure only
// costs the next start its replay, so it is logged, not returned.
func (n *Node) snapshotOnStop() {
	st := n.RaftStats()
	applied, snap := st.AppliedIndex, st.LastSnapshotIndex
	if applied < snap+shutdownSnapshotMin {
		return
	}
	start := time.Now()
	if err := n.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		n.log.Warn("no snapshot at shutdown; the next start replays the log", zap.Uint64("entries", applied-snap), zapErr(err))
		return
	}
	n.log.Info("snapshot at shutdown", zap.Uint64("index", applied), zap.Uint64("entriesSincePrevious", applied-snap),
		zap.Duration("took", time.Since(start)))
}

// Kill stops the node abruptly, as a crash would: no leadership hand-over.
func (n *Node) Kill() error {
	n.shutOnce.Do(func() {
		close(n.done)
		n.closeNetwork()
		n.interruptStores()
		n.drainApplies()
		err := n.raft.Shutdown().Error()
		n.fsm.close()
		n.dropForwarder(ErrClosed)
		n.wg.Wait()
		n.failDoubts(ErrClosed)
		if cerr := n.closeStores(); err == nil {
			err = cerr
		}
		n.shutErr = err
	})
	return n.shutErr
}

func (n *Node) otherVoters() bool {
	ms, _, err := n.Members()
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.ID != n.id && !m.Observer() {
			return true
		}
	}
	return false
}

// closeNetwork closes the election listener, herd's peer connections and
// the Raft transport.
func (n *Node) closeNetwork() {
	if n.electionL != nil {
		n.electionL.Close()
	}
	n.peerMu.Lock()
	n.peerClosed = true
	conns := n.peerConns
	n.peerConns = map[*peerConn]struct{}{}
	n.peerMu.Unlock()
	for pc := range conns {
		pc.close()
	}
	if c, ok := n.trans.(io.Closer); ok {
		c.Close()
	}
}

// Health returns nil while this node can write its log, and otherwise why
// it cannot (an error wrapping storage.ErrCannotWrite, e.g. a full disk).
// Writes wait meanwhile and resume by themselves once the disk has room.
func (n *Node) Health() error { return n.store.Health() }

// interruptStores ends a log write that waits for disk space, which would
// otherwise hold up Raft's shutdown.
func (n *Node) interruptStores() {
	if n.store != nil {
		n.store.Interrupt()
	}
}

func (n *Node) closeStores() error {
	if n.store == nil {
		return nil
	}
	return n.store.Close()
}

// waitFuture waits for a raft future, giving up when ctx ends.
func waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func zapErr(err error) zap.Field { return zap.Error(err) }

func zapState(s State) []zap.Field {
	return []zap.Field{zap.Stringer("role", s.Role), zap.Int("leader", s.Leader),
		zap.Uint64("term", s.Term), zap.Bool("ready", s.Ready)}
}
