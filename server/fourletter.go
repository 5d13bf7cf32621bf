package server

import (
	"bufio"
	"encoding/binary"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"time"

	"github.com/herd-io/herd/server/fourlw"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
	"github.com/herd-io/herd/server/zoocfg"
)

// fourLetter answers a four-letter word; serve closes the connection after.
func (c *conn) fourLetter(cmd string, br *bufio.Reader) {
	var mask [8]byte
	if cmd == "stmk" {
		// stmk carries an 8-byte trace mask; herd has no tracing to set.
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return
		}
	}
	wl := fourlw.ParseWhitelist(c.srv.cfg.FourLetterWords)
	out := fourlw.Run(cmd, wl, fourLetterSource{c.srv, c})
	if cmd == "stmk" && wl.Allows(cmd) {
		// SetTraceMaskCommand answers with the mask it was given, as a long.
		out = strconv.FormatInt(int64(binary.BigEndian.Uint64(mask[:])), 10)
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c.nc, out)
}

// fourLetterSource exposes the server's state to the four-letter commands
// and the AdminServer.
type fourLetterSource struct {
	srv  *Server
	self *conn // the connection asking, or nil (the AdminServer)
}

// Server implements fourlw.Source.
func (f fourLetterSource) Server() fourlw.ServerStats { return f.srv.Stats() }

// diskUsage returns the bytes of the snapshots (ZooKeeper's dataDir) and of
// the Raft log (its dataLogDir), for dirs and conf.
func (s *Server) diskUsage() (snapshots, log int64) {
	return dirSize(filepath.Join(s.cfg.DataDir, "raft", "snapshots")),
		dirSize(filepath.Join(s.cfg.DataLogDir, "raft", "wal"))
}

// dirSize sums the sizes of the regular files below dir; what cannot be read
// counts as 0.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, ierr := d.Info(); ierr == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func (f fourLetterSource) Conns() []fourlw.ConnStats {
	conns := f.srv.connList()
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
		Timeout:     time.Duration(c.timeout.Load()),
		LastCxid:    c.lastCxid.Load(),
		LastZxid:    c.lastZxid.Load(),
	}
	cs.LastOp = proto.OpCode(c.lastOp.Load())
	if ms := c.lastResp.Load(); ms > 0 {
		cs.LastResponse = time.UnixMilli(ms)
	}
	cs.MinLatency, cs.AvgLatency, cs.MaxLatency = c.latency.get()
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
	if f.self == nil {
		zc.ClientPort = f.srv.clientPort()
	} else if ta, ok := f.self.nc.LocalAddr().(*net.TCPAddr); ok {
		zc.ClientPort = ta.Port
	}
	if f.srv.clustered() {
		// The membership the node follows now, as ZooKeeper's conf prints its
		// current quorum configuration.
		zc.MyID, zc.StandaloneEnabled = cfg.ServerID, false
		if members, _, err := f.srv.node.Members(); err == nil {
			for _, m := range members {
				zc.Servers[m.ID] = m.Server
			}
		}
	}
	snaps, log := f.srv.diskUsage()
	return fourlw.ConfFromConfig(zc, snaps, log)
}

func (f fourLetterSource) Env() []fourlw.KV { return fourlw.Environment() }

func (f fourLetterSource) Watches() fourlw.WatchStats {
	ws := f.srv.watches.Stats()
	return fourlw.WatchStats{Connections: int64(ws.Connections), Paths: int64(ws.Paths), Total: int64(ws.Total)}
}

func (f fourLetterSource) WatchList() []fourlw.Watch {
	var out []fourlw.Watch
	for _, c := range f.srv.connList() {
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
		// dump groups sessions by their expiry bucket.
		expires, _ := f.srv.tracker.Deadline(s.ID)
		out = append(out, fourlw.SessionInfo{
			ID:         s.ID,
			Timeout:    time.Duration(s.Timeout) * time.Millisecond,
			Ephemerals: eph[s.ID],
			Expires:    expires,
		})
	}
	return out
}

func (f fourLetterSource) ReadOnly() bool { return false }

// Health implements fourlw.HealthReporter (ruok).
func (f fourLetterSource) Health() error { return f.srv.Health() }

// ResetConnStats implements fourlw.Resetter (crst).
func (f fourLetterSource) ResetConnStats() {
	for _, c := range f.srv.connList() {
		c.received.Store(0)
		c.sent.Store(0)
		c.latency.reset()
	}
}

// ResetServerStats implements fourlw.Resetter (srst).
func (f fourLetterSource) ResetServerStats() {
	f.srv.stats.received.Store(0)
	f.srv.stats.sent.Store(0)
	f.srv.stats.latency.reset()
}
