package server

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/herd-io/herd/server/fourlw"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
	"github.com/herd-io/herd/server/zoocfg"
)

// fourLetter answers a four-letter word; serve closes the connection after.
func (c *conn) fourLetter(cmd string, br *bufio.Reader) {
	if cmd == "stmk" {
		// stmk carries an 8-byte trace mask; herd has no tracing to set.
		var mask [8]byte
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return
		}
	}
	out := fourlw.Run(cmd, fourlw.ParseWhitelist(c.srv.cfg.FourLetterWords), fourLetterSource{c.srv, c})
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c.nc, out)
}

// fourLetterSource exposes the server's state to the four-letter commands.
type fourLetterSource struct {
	srv  *Server
	self *conn
}

func (f fourLetterSource) Server() fourlw.ServerStats {
	s := f.srv
	st := fourlw.ServerStats{
		Serving:         true,
		Mode:            "standalone",
		PacketsReceived: s.stats.received.Load(),
		PacketsSent:     s.stats.sent.Load(),
		Zxid:            s.fsm.LastZxid(),
		Uptime:          time.Since(s.started),
		WatchCount:      int64(s.watches.Count()),
		GlobalSessions:  int64(len(s.fsm.Sessions())),
	}
	st.LatencyMin = time.Duration(s.stats.latMin.Load()) * time.Millisecond
	st.LatencyMax = time.Duration(s.stats.latMax.Load()) * time.Millisecond
	if n := s.stats.latN.Load(); n > 0 {
		st.LatencyAvg = time.Duration(s.stats.latSum.Load()) * time.Millisecond / time.Duration(n)
	}
	s.mu.Lock()
	st.Connections = int64(len(s.conns))
	for c := range s.conns {
		st.Outstanding += int64(len(c.slots))
	}
	s.mu.Unlock()
	s.fsm.Read(func(t *tree.Tree) {
		st.NodeCount = int64(t.NodeCount())
		st.EphemeralsCount = int64(t.EphemeralCount())
		st.ApproximateDataSize = t.ApproximateDataSize()
	})
	st.OpenFileDescriptors, st.MaxFileDescriptors = fourlw.ProcessFileDescriptors()
	return st
}

func (f fourLetterSource) Conns() []fourlw.ConnStats {
	f.srv.mu.Lock()
	conns := make([]*conn, 0, len(f.srv.conns))
	for c := range f.srv.conns {
		conns = append(conns, c)
	}
	f.srv.mu.Unlock()
	out := make([]fourlw.ConnStats, 0, len(conns))
	for _, c := range conns {
		out = append(out, c.stats())
	}
	return out
}

func (c *conn) stats() fourlw.ConnStats {
	cs := fourlw.ConnStats{
		Queued:      int64(len(c.slots)),
		Received:    c.received.Load(),
		Sent:        c.sent.Load(),
		SessionID:   c.session(),
		Established: c.established,
		Timeout:     c.timeout,
		LastCxid:    c.lastCxid.Load(),
		LastZxid:    c.lastZxid.Load(),
		MinLatency:  time.Duration(c.latMin.Load()) * time.Millisecond,
		MaxLatency:  time.Duration(c.latMax.Load()) * time.Millisecond,
	}
	cs.LastOp = proto.OpCode(c.lastOp.Load())
	if ms := c.lastResp.Load(); ms > 0 {
		cs.LastResponse = time.UnixMilli(ms)
	}
	if n := c.latN.Load(); n > 0 {
		cs.AvgLatency = time.Duration(c.latSum.Load()) * time.Millisecond / time.Duration(n)
	}
	if ta, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
		cs.Remote = ta.AddrPort()
	} else {
		cs.Remote = netip.AddrPort{}
	}
	return cs
}

func (f fourLetterSource) Conf() []fourlw.KV {
	cfg := f.srv.cfg
	zc := zoocfg.Default()
	zc.DataDir, zc.DataLogDir = cfg.DataDir, cfg.DataLogDir
	zc.TickTime = cfg.TickTime
	zc.MaxClientCnxns = cfg.MaxClientCnxns
	zc.MinSessionTimeout, zc.MaxSessionTimeout = cfg.MinSessionTimeout, cfg.MaxSessionTimeout
	if ta, ok := f.self.nc.LocalAddr().(*net.TCPAddr); ok {
		zc.ClientPort = ta.Port
	}
	return fourlw.ConfFromConfig(zc, 0, 0)
}

func (f fourLetterSource) Env() []fourlw.KV { return fourlw.Environment() }

func (f fourLetterSource) Watches() fourlw.WatchStats {
	ws := f.srv.watches.Stats()
	return fourlw.WatchStats{Connections: int64(ws.Connections), Paths: int64(ws.Paths), Total: int64(ws.Total)}
}

func (f fourLetterSource) WatchList() []fourlw.Watch {
	var out []fourlw.Watch
	f.srv.mu.Lock()
	conns := make([]*conn, 0, len(f.srv.conns))
	for c := range f.srv.conns {
		conns = append(conns, c)
	}
	f.srv.mu.Unlock()
	for _, c := range conns {
		for _, p := range f.srv.watches.PathsOf(c) {
			out = append(out, fourlw.Watch{SessionID: c.session(), Path: p})
		}
	}
	return out
}

func (f fourLetterSource) Sessions() []fourlw.SessionInfo {
	var eph map[int64][]string
	f.srv.fsm.Read(func(t *tree.Tree) { eph = t.SessionsWithEphemerals() })
	var out []fourlw.SessionInfo
	for _, s := range f.srv.fsm.Sessions() {
		out = append(out, fourlw.SessionInfo{
			ID:         s.ID,
			Timeout:    time.Duration(s.Timeout) * time.Millisecond,
			Ephemerals: eph[s.ID],
		})
	}
	return out
}

func (f fourLetterSource) ReadOnly() bool { return false }
