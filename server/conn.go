package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/fsm"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
	"github.com/herd-io/herd/server/watch"
)

// slotQueueLen bounds the requests a connection may have in flight; the reader
// stops reading when it is full, which pushes back on the client.
const slotQueueLen = 1024

// sessionlessTimeout bounds how long a new connection may take to send its
// ConnectRequest or four-letter word, as ZooKeeper's
// zookeeper.nio.sessionlessCnxnTimeout (default 10s): a connection that
// never completes its handshake is closed instead of holding a goroutine and
// a descriptor forever.
var sessionlessTimeout = 10 * time.Second

// conn is one client connection. Three goroutines serve it: the reader decodes
// requests and starts them (writes go to Raft at once), the responder finishes
// them strictly in request order (running each read only after every earlier
// request of the connection has finished), and the writer flushes the outbound
// stream. Watch notifications join that stream at the moment they fire.
type conn struct {
	srv *Server
	nc  net.Conn
	ip  string
	log *zap.Logger

	// Set by the reader during the handshake and auth; read by the responder
	// only through values copied into slots.
	sid            atomic.Int64
	timeout        atomic.Int64 // negotiated session timeout (ns); read by cons
	ids            []proto.Id
	super          bool
	closingSession atomic.Bool

	slots  chan *slot
	out    outbound
	acct   *account        // this connection's share of the server's memory budget
	writes *cluster.Stream // this connection's writes, in order

	closeOnce sync.Once
	closed    chan struct{}
	// ctx ends when the connection closes; waits on its behalf use it.
	ctx    context.Context
	cancel context.CancelFunc

	// Statistics for the cons and stat commands.
	established time.Time
	received    atomic.Int64
	sent        atomic.Int64
	lastOp      atomic.Int32 // proto.OpCode
	lastCxid    atomic.Int64
	lastZxid    atomic.Int64
	lastResp    atomic.Int64 // unix ms
	latency     latencies
}

// slot is one request waiting for its turn to answer.
type slot struct {
	hdr   proto.RequestHeader
	req   proto.Record
	start time.Time

	// A write's result comes from the log, once applied on this node.
	proposal *cluster.Proposal
	// A request finished beside the pipeline (sync's wait for the leader's
	// commit point, a reconfig); its reply still leaves in order.
	async chan asyncReply
	// A request answered without the tree (auth, errors found while decoding),
	// with an optional body; stampZxid puts the last applied zxid in its header.
	reply     *proto.ReplyHeader
	replyBody proto.Record
	stampZxid bool
	// Identity at the time the request arrived.
	caller tree.Caller
	// Close the connection once this reply is flushed.
	closeAfter bool
	// size is the request frame's length, held in the budget until answered.
	size int
}

func newConn(s *Server, nc net.Conn, ip string) *conn {
	c := &conn{
		srv:         s,
		nc:          nc,
		ip:          ip,
		log:         s.log.With(zap.String("remote", nc.RemoteAddr().String())),
		slots:       make(chan *slot, slotQueueLen),
		closed:      make(chan struct{}),
		established: time.Now(),
		ids:         []proto.Id{{Scheme: "ip", ID: ip}},
		writes:      s.node.NewStream(),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.acct = s.budget.newAccount()
	c.out.init(c.acct)
	return c
}

func (c *conn) session() int64 { return c.sid.Load() }

// isClosed reports whether closeAsync ran.
func (c *conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// closeAsync closes the socket; the goroutines notice and clean up.
func (c *conn) closeAsync() {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.cancel()
		c.nc.Close()
		c.out.close()
	})
}

// serve runs the connection until it closes.
func (c *conn) serve() {
	c.log.Debug("connection opened")
	defer func() {
		c.log.Debug("connection closed", sessionField(c.session()))
	}()
	defer c.srv.forget(c)
	defer c.srv.watches.RemoveWatcher(c)
	defer c.closeAsync()

	_ = c.nc.SetReadDeadline(time.Now().Add(sessionlessTimeout))
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var first [4]byte
	if _, err := io.ReadFull(br, first[:]); err != nil {
		return
	}
	if string(first[:]) == BackupWord {
		c.serveBackup()
		return
	}
	if cmd, ok := proto.IsFourLetterWord(first); ok {
		c.fourLetter(cmd, br)
		return
	}
	length := int32(binary.BigEndian.Uint32(first[:]))
	body, err := proto.ReadFrameBody(br, length, nil, c.srv.cfg.MaxBuffer)
	if err != nil {
		c.log.Debug("bad connect frame", zap.Error(err))
		return
	}
	c.received.Add(1)
	c.srv.stats.received.Add(1)
	if !c.handshake(body) {
		c.out.waitFlushed(c.nc)
		return
	}
	// From here the session's own timeout governs.
	_ = c.nc.SetReadDeadline(time.Time{})

	responded, written := make(chan struct{}), make(chan struct{})
	go func() { defer close(responded); c.respond() }()
	go func() { defer close(written); c.write() }()
	c.readLoop(br)
	// Whatever ended reading (EOF, a bad frame, closeSession), answer what was
	// already accepted, flush it, then close.
	close(c.slots)
	<-responded
	c.out.closeAfterFlush()
	<-written
}

// readLoop reads requests until the connection fails or a request ends it.
func (c *conn) readLoop(br *bufio.Reader) {
	var buf []byte
	for {
		// Over the server's budget, a connection holding much is not read.
		if !c.acct.waitRead(c.closed) {
			return
		}
		frame, err := proto.ReadFrame(br, buf, c.srv.cfg.MaxBuffer)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.log.Debug("closing connection", zap.Error(err))
			}
			return
		}
		c.received.Add(1)
		c.srv.stats.received.Add(1)
		c.srv.touch(c.session(), time.Now())
		// Records decoded below keep slices of the frame, so it is not reused.
		s, stop := c.start(frame)
		if s != nil {
			s.size = len(frame)
			c.acct.read(s.size)
			select {
			case c.slots <- s:
			case <-c.closed:
				c.acct.answered(s.size)
				return
			}
		}
		if stop {
			return
		}
	}
}

// start decodes one request and starts it. stop reports that nothing after it
// may be read (the connection is closing).
func (c *conn) start(frame []byte) (s *slot, stop bool) {
	d := proto.NewDecoder(frame, c.srv.cfg.MaxBuffer)
	s = &slot{start: time.Now()}
	s.hdr.Decode(d)
	if d.Err() != nil {
		return nil, true
	}
	body := frame[len(frame)-d.Remaining():]
	op := s.hdr.Op
	c.lastCxid.Store(int64(s.hdr.Xid))
	c.lastOp.Store(int32(op))
	s.caller = tree.Caller{Session: c.session(), Ids: c.ids, Super: c.super}

	switch op {
	case proto.OpPing, proto.OpWhoAmI:
		return s, false
	case proto.OpCloseSession:
		c.closingSession.Store(true)
		e := fsm.Entry{Type: fsm.EntryCloseSession, Time: time.Now().UnixMilli(), Session: c.session(),
			Node: c.srv.nodeID()}
		c.srv.tracker.SetClosing(c.session())
		s.proposal = c.writes.Propose(e.Marshal())
		s.closeAfter = true
		return s, true
	case proto.OpAuth:
		return c.auth(s, body)
	}
	if op == proto.OpReconfig && c.srv.clustered() && c.srv.cfg.ReconfigEnabled {
		return c.reconfig(s, body), false
	}
	if isWrite(op) {
		// Writes are decided in apply, even a malformed one: as in ZooKeeper a
		// failed write is a transaction and consumes a zxid.
		e := fsm.Entry{
			Type: fsm.EntryRequest, Time: time.Now().UnixMilli(), Session: c.session(), Node: c.srv.nodeID(),
			Ids: c.ids, Super: c.super, Op: op, Body: body,
		}
		s.proposal = c.writes.Propose(e.Marshal())
		return s, false
	}

	if op == proto.OpSASL {
		// No SASL is configured: ZooKeeper answers with an empty token.
		s.reply = &proto.ReplyHeader{Xid: s.hdr.Xid}
		s.replyBody = &proto.SASLResponse{Token: []byte{}}
		return s, false
	}
	req, err := proto.DecodeRequest(op, body, c.srv.cfg.MaxBuffer)
	switch {
	case errors.Is(err, proto.ErrUnknownOp) || op == proto.OpCheck || op == proto.OpNotification:
		// UnimplementedRequestProcessor: answer -6 (zxid -1), then close.
		s.reply = &proto.ReplyHeader{Xid: s.hdr.Xid, Zxid: -1, Err: proto.ErrUnimplemented}
		s.closeAfter = true
		return s, true
	case err != nil:
		s.reply = &proto.ReplyHeader{Xid: s.hdr.Xid, Err: proto.ErrMarshallingError}
		s.stampZxid = true
		return s, false
	}
	if m, ok := req.(*proto.MultiRequest); ok && len(m.Ops) > 0 && !m.ReadOnly() {
		// A multiRead carrying write ops.
		s.reply = &proto.ReplyHeader{Xid: s.hdr.Xid, Err: proto.ErrMarshallingError}
		s.stampZxid = true
		return s, false
	}
	s.req = req
	if op == proto.OpSync {
		// Bring this replica up to the leader's commit point, beside the
		// pipeline; the reply still waits for its turn.
		s.async = make(chan asyncReply, 1)
		go func() { s.async <- asyncReply{err: c.srv.node.Sync(c.ctx)} }()
	}
	return s, false
}

func isWrite(op proto.OpCode) bool {
	switch op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL,
		proto.OpDelete, proto.OpSetData, proto.OpSetACL, proto.OpMulti, proto.OpDeleteContainer,
		proto.OpReconfig, proto.OpCreateSession:
		return true
	}
	return false
}

// respond answers slots in arrival order.
func (c *conn) respond() {
	var enc proto.Encoder
	for s := range c.slots {
		c.answer(&enc, s)
		c.acct.answered(s.size)
	}
}

// answer produces and queues the reply to s, once the connection's output
// has room for it.
func (c *conn) answer(enc *proto.Encoder, s *slot) {
	if !c.acct.waitRespond(c.closed) {
		return // closed: drain so the reader never blocks on a full queue
	}
	hdr, resp, ok, read := c.finish(s)
	var inline bool
	switch {
	case !ok:
		c.closeAsync()
	case read:
		c.read(s, func(hdr proto.ReplyHeader, resp proto.Record) { inline = c.emit(enc, s, hdr, resp) })
	default:
		inline = c.emit(enc, s, hdr, resp)
	}
	// Written here, not under the tree's read lock that read holds.
	if inline && c.out.writeReserved(c.nc, enc.Bytes()) != nil {
		c.closeAsync()
	}
}

// emit encodes the reply to s and queues it on the outbound stream. When no
// other request waits for an answer and nothing is queued it reserves the
// stream instead and returns true: the caller writes enc's bytes itself
// (outbound.writeReserved). Under load replies still go through the writer,
// which sends all that accumulated in one syscall.
func (c *conn) emit(enc *proto.Encoder, s *slot, hdr proto.ReplyHeader, resp proto.Record) (inline bool) {
	enc.Reset()
	start := enc.StartFrame()
	hdr.Encode(enc)
	if resp != nil && hdr.Err == proto.ErrOK {
		resp.Encode(enc)
	}
	enc.EndFrame(start)
	if hdr.Xid != proto.XidPing {
		d := time.Since(s.start)
		c.observe(d, hdr.Zxid)
		c.requestDone(s, d)
	}
	inline = len(c.slots) == 0 && c.out.reserve(len(enc.Bytes()))
	if !inline && !c.out.push(enc.Bytes(), 0) {
		c.closeAsync()
		return false
	}
	c.sent.Add(1)
	c.srv.stats.sent.Add(1)
	if s.closeAfter {
		c.out.closeAfterFlush()
	}
	return inline
}

// finish produces the reply to a request answered without the tree, to a
// write, or to a request finished beside the pipeline. read reports that s is
// a read, still to be answered against the tree (see read). ok=false means
// the connection must close without a reply (e.g. the node lost the ability
// to commit).
func (c *conn) finish(s *slot) (hdr proto.ReplyHeader, resp proto.Record, ok, read bool) {
	if s.reply != nil {
		hdr := *s.reply
		if s.stampZxid {
			hdr.Zxid = c.srv.fsm.LastZxid()
		}
		return hdr, s.replyBody, true, false
	}
	if s.async != nil {
		r := <-s.async
		if r.err != nil {
			c.log.Info("request failed; closing connection", zap.Stringer("op", s.hdr.Op), zap.Error(r.err))
			return proto.ReplyHeader{}, nil, false, false
		}
		if r.hdr != nil {
			return *r.hdr, r.resp, true, false
		}
	}
	if s.proposal == nil {
		return proto.ReplyHeader{}, nil, true, true
	}
	res, err := result(s.proposal)
	if err != nil {
		c.log.Warn("write not committed; closing connection", zap.Error(err))
		return proto.ReplyHeader{}, nil, false, false
	}
	if res.Err == proto.ErrSessionMoved {
		// The client re-attached at another server. As ZooKeeper does, tear
		// the connection down without a reply.
		c.log.Info("request of a session that moved to another server; closing")
		return proto.ReplyHeader{}, nil, false, false
	}
	hdr = proto.ReplyHeader{Xid: s.hdr.Xid, Zxid: res.Zxid, Err: res.Err}
	if s.hdr.Op == proto.OpCloseSession {
		hdr.Err = proto.ErrOK
	}
	return hdr, res.Resp, true, false
}

func (c *conn) observe(d time.Duration, zxid int64) {
	c.latency.observe(d)
	c.lastZxid.Store(zxid)
	c.lastResp.Store(time.Now().UnixMilli())
	c.srv.stats.latency.observe(d)
}

// Notify implements watch.Watcher: the event joins the outbound stream now, so
// it precedes every response produced after the change that fired it.
func (c *conn) Notify(ev watch.Event) {
	var enc proto.Encoder
	start := enc.StartFrame()
	// ZooKeeper 3.8 sends -1 as the zxid of every notification.
	(&proto.ReplyHeader{Xid: proto.XidNotification, Zxid: -1}).Encode(&enc)
	(&proto.WatcherEvent{Type: ev.Type, State: proto.StateSyncConnected, Path: ev.Path}).Encode(&enc)
	enc.EndFrame(start)
	if !c.out.push(enc.Bytes(), notifyLimitFactor*c.srv.cfg.MaxOutboundBytes) {
		if !c.isClosed() {
			c.log.Warn("slow consumer: watch notifications over the outbound cap, closing")
		}
		c.closeAsync()
		return
	}
	c.sent.Add(1)
	c.srv.stats.sent.Add(1)
}

// write flushes the outbound stream to the socket.
func (c *conn) write() {
	for {
		buf, last, ok := c.out.take(c.closed)
		if !ok {
			return
		}
		if len(buf) > 0 {
			if _, err := c.nc.Write(buf); err != nil {
				c.closeAsync()
				return
			}
		}
		c.out.release(buf)
		if last {
			c.closeAsync()
			return
		}
	}
}

// handshake processes the ConnectRequest. It returns false when the connection
// must close (after flushing whatever reply was queued).
func (c *conn) handshake(body []byte) bool {
	var req proto.ConnectRequest
	d := proto.NewDecoder(body, c.srv.cfg.MaxBuffer)
	req.Decode(d)
	if d.Err() != nil {
		c.log.Debug("bad connect request", zap.Error(d.Err()))
		return false
	}
	if !c.srv.serving() {
		// No leader: this node can neither create nor validate a session.
		// Wait a little (an election is usually short), then let the client
		// try another server.
		ctx, cancel := context.WithTimeout(c.ctx, c.srv.node.LeaderWait())
		err := c.srv.node.WaitReady(ctx)
		cancel()
		if err != nil {
			c.log.Debug("not serving (no leader); closing new connection")
			return false
		}
	}
	if last := c.srv.fsm.LastZxid(); req.LastZxidSeen > last {
		// The client has seen a newer state than ours: it must try another
		// server, so close without a reply (ZooKeeper's CLIENT_ZXID_AHEAD).
		c.log.Info("client zxid ahead of server; refusing",
			zap.Int64("clientZxid", req.LastZxidSeen), zap.Int64("serverZxid", last))
		return false
	}
	timeout := time.Duration(req.TimeOut) * time.Millisecond
	timeout = min(max(timeout, c.srv.cfg.MinSessionTimeout), c.srv.cfg.MaxSessionTimeout)
	resp := proto.ConnectResponse{HasReadOnly: req.HasReadOnly}

	if req.SessionID == 0 {
		id, pw := c.srv.newSessionID(), newPassword()
		e := fsm.Entry{Type: fsm.EntryCreateSession, Time: time.Now().UnixMilli(), Session: id,
			Node: c.srv.nodeID(), Passwd: pw, Timeout: int32(timeout.Milliseconds())}
		res, err := c.srv.propose(&e)
		if err != nil || res.Err != proto.ErrOK {
			c.log.Warn("could not create session", zap.Error(err))
			return false
		}
		resp.TimeOut, resp.SessionID, resp.Passwd = int32(timeout.Milliseconds()), id, pw
		c.log.Debug("session created", sessionField(id), zap.Duration("timeout", timeout))
	} else {
		err := c.srv.revalidate(c.ctx, req.SessionID, req.Passwd, timeout)
		if err != nil && !errors.Is(err, errSessionInvalid) {
			// The leader could not be asked: the session may well be alive,
			// so do not tell the client it expired.
			c.log.Info("could not validate session with the leader; closing", zap.Error(err))
			return false
		}
		ss, ok := c.srv.fsm.Session(req.SessionID)
		valid := err == nil && ok
		if valid && c.srv.clustered() && ss.Owner != c.srv.nodeID() {
			// The client moved here from another server: record it in the log,
			// so that server closes its connection and its late writes fail.
			e := fsm.Entry{Type: fsm.EntryMoveSession, Time: time.Now().UnixMilli(), Session: ss.ID, Node: c.srv.nodeID()}
			res, err := c.srv.propose(&e)
			if err != nil {
				c.log.Info("could not move session here; closing", zap.Error(err))
				return false
			}
			valid = res.Err == proto.ErrOK
		}
		if !valid {
			resp.Passwd = make([]byte, 16)
			c.pushConnectResponse(&resp)
			c.out.closeAfterFlush()
			return false
		}
		resp.TimeOut, resp.SessionID, resp.Passwd = int32(timeout.Milliseconds()), ss.ID, ss.Passwd
	}
	c.sid.Store(resp.SessionID)
	c.timeout.Store(int64(timeout))
	if old := c.srv.bind(resp.SessionID, c); old != nil {
		old.closeAsync()
	}
	c.pushConnectResponse(&resp)
	return true
}

func (c *conn) pushConnectResponse(r *proto.ConnectResponse) {
	var enc proto.Encoder
	start := enc.StartFrame()
	r.Encode(&enc)
	enc.EndFrame(start)
	c.out.push(enc.Bytes(), 0)
	c.sent.Add(1)
	c.srv.stats.sent.Add(1)
}

// auth handles an AuthPacket in order with the other requests: identities it
// adds apply to every later request of the connection.
func (c *conn) auth(s *slot, body []byte) (*slot, bool) {
	var p proto.AuthPacket
	d := proto.NewDecoder(body, c.srv.cfg.MaxBuffer)
	p.Decode(d)
	fail := func() (*slot, bool) {
		c.srv.stats.authFailed.Add(1)
		s.reply = &proto.ReplyHeader{Xid: s.hdr.Xid, Err: proto.ErrAuthFailed}
		s.closeAfter = true
		return s, true
	}
	if d.Err() != nil {
		// ZooKeeper cannot deserialise the packet and drops the connection
		// without a reply.
		c.log.Debug("malformed auth packet", zap.Error(d.Err()))
		return nil, true
	}
	if p.Scheme == "ip" {
		// IPAuthenticationProvider succeeds by adding the connection's own
		// ip id, which every connection already has.
		s.reply = &proto.ReplyHeader{Xid: s.hdr.Xid, Zxid: 0, Err: proto.ErrOK}
		return s, false
	}
	if p.Scheme != "digest" {
		c.log.Info("auth failed", zap.String("scheme", p.Scheme))
		return fail()
	}
	// Like DigestAuthenticationProvider.handleAuthentication, any credential
	// is accepted (one without a ':' is all user name) and yields its digest id.
	id := proto.Id{Scheme: "digest", ID: tree.DigestID(string(p.Auth))}
	// Copy so slots already queued keep the identities they were sent with.
	ids := make([]proto.Id, 0, len(c.ids)+2)
	ids = append(ids, c.ids...)
	if c.srv.cfg.SuperDigest != "" && id.ID == c.srv.cfg.SuperDigest {
		// As in DigestAuthenticationProvider, the super user also gets the
		// provider-less "super" id (whoAmI shows it with user "").
		c.super = true
		if superID := (proto.Id{Scheme: "super"}); !containsID(ids, superID) {
			ids = append(ids, superID)
		}
	}
	if !containsID(ids, id) {
		ids = append(ids, id)
	}
	// ZooKeeper keeps these in a HashSet; its iteration order is visible in
	// whoAmI and in how the auth ACL scheme expands.
	c.ids = javaSetOrder(ids)
	s.reply = &proto.ReplyHeader{Xid: s.hdr.Xid, Zxid: 0, Err: proto.ErrOK}
	return s, false
}

func containsID(ids []proto.Id, id proto.Id) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
