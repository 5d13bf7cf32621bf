package fourlw

import (
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herd-io/herd/server/proto"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSource is a Source with fixed data.
type fakeSource struct {
	st       ServerStats
	conns    []ConnStats
	conf     []KV
	env      []KV
	watches  []Watch
	sessions []SessionInfo
	ro       bool
	resets   []string
}

func (f *fakeSource) Server() ServerStats     { return f.st }
func (f *fakeSource) Conns() []ConnStats      { return f.conns }
func (f *fakeSource) Conf() []KV              { return f.conf }
func (f *fakeSource) Env() []KV               { return f.env }
func (f *fakeSource) WatchList() []Watch      { return f.watches }
func (f *fakeSource) Sessions() []SessionInfo { return f.sessions }
func (f *fakeSource) ReadOnly() bool          { return f.ro }
func (f *fakeSource) ResetConnStats()         { f.resets = append(f.resets, "conn") }
func (f *fakeSource) ResetServerStats()       { f.resets = append(f.resets, "server") }

func (f *fakeSource) Watches() WatchStats {
	conns, paths := map[int64]bool{}, map[string]bool{}
	for _, w := range f.watches {
		conns[w.SessionID], paths[w.Path] = true, true
	}
	return WatchStats{Connections: int64(len(conns)), Paths: int64(len(paths)), Total: int64(len(f.watches))}
}

var t0 = time.Date(2026, 11, 25, 17, 14, 47, 0, time.UTC)

// newFake mirrors the state of the real ZooKeeper in peer_test.go: one client
// session (ephemeral /p/e, a data watch on /p) and the 4lw connection itself.
func newFake() *fakeSource {
	const sid = 0x10000068d8f0000
	return &fakeSource{
		st: ServerStats{
			Serving: true, Mode: "standalone",
			LatencyMin: 0, LatencyAvg: 1818180 * time.Nanosecond, LatencyMax: 8 * time.Millisecond,
			PacketsReceived: 12, PacketsSent: 11, Connections: 2, Zxid: 0x5, NodeCount: 7,
			Uptime: 16928 * time.Millisecond, WatchCount: 1, EphemeralsCount: 1, ApproximateDataSize: 61,
			GlobalSessions: 1, OpenFileDescriptors: 41, MaxFileDescriptors: 20000,
			DataDirSize: 457, LogDirSize: 458,
		},
		conns: []ConnStats{
			{Remote: netip.MustParseAddrPort("127.0.0.1:52306"), Received: 7, Sent: 7, SessionID: sid,
				LastOp: proto.OpExists, Established: time.UnixMilli(1795626880581), Timeout: 10 * time.Second,
				LastCxid: 6, LastZxid: 4, LastResponse: time.UnixMilli(1795626890000),
				LastLatency: time.Millisecond, MinLatency: 0, AvgLatency: 2 * time.Millisecond, MaxLatency: 8 * time.Millisecond,
				Expires: t0.Add(10 * time.Second)},
			{Remote: netip.MustParseAddrPort("127.0.0.1:52342"), Received: 1, LastCxid: -1, LastZxid: -1,
				Established: t0},
		},
		conf:     []KV{{Key: "clientPort", Value: "2181"}, {Key: "tickTime", Value: "2000"}},
		env:      []KV{{Key: "zookeeper.version", Value: FullVersion()}, {Key: "host.name", Value: "h"}},
		watches:  []Watch{{SessionID: sid, Path: "/p"}},
		sessions: []SessionInfo{{ID: sid, Timeout: 10 * time.Second, Expires: t0.Add(4 * time.Second), Ephemerals: []string{"/p/e"}}},
	}
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
