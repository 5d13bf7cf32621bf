package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/fourlw"
	"github.com/herd-io/herd/server/zoocfg"
)

// serve runs one node until ctx is cancelled (SIGINT/SIGTERM).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "localhost:2181", "client address to listen on (host:port)")
	dataDir := fs.String("data-dir", "", "data directory (default: herd/data under the user's cache dir)")
	configFile := fs.String("config", "", "a ZooKeeper zoo.cfg to read settings from (server.N lines and dataDir/myid form a cluster)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	myid := fs.Int("myid", 0, "this server's id in a cluster (instead of dataDir/myid)")
	var servers serverFlags
	fs.Var(&servers, "server", "a cluster member, `N=host:peerPort:electionPort[:participant|:observer][;clientAddr]` (repeat for each; instead of zoo.cfg's server.N lines)")
	reconfig := fs.Bool("reconfig-enabled", false, "allow the reconfig operation (zoo.cfg reconfigEnabled)")
	ops := addOpsFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	log, err := newLoggerFormat(*logLevel, *ops.logFormat, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "herd serve:", err)
		return 2
	}
	defer log.Sync()

	cfg := server.Config{Logger: log, FourLetterWords: []string{"srvr"}}
	addr := *listen
	var zc *zoocfg.Config
	if *configFile != "" {
		zc, err = zoocfg.Load(*configFile)
		if err != nil {
			log.Error("cannot read config", zap.Error(err))
			return 2
		}
		if !warnIgnored(zc, *ops.strict, log) {
			log.Error("refusing to start (--strict): zoo.cfg has settings herd does not honour", zap.String("config", *configFile))
			return 2
		}
		applyZooCfg(&cfg, zc, log)
		if !explicit["listen"] && (zc.ClientPort != 0 || zc.Distributed()) {
			addr = zc.ClientAddr()
		}
	}
	if len(servers) > 0 {
		cfg.Servers = servers
	}
	if explicit["myid"] {
		cfg.ServerID = *myid
	}
	if explicit["reconfig-enabled"] {
		cfg.ReconfigEnabled = *reconfig
	}
	if explicit["slow-request-ms"] {
		cfg.SlowRequest = time.Duration(*ops.slowMs) * time.Millisecond
	}
	if len(cfg.Servers) > 0 {
		self, ok := memberByID(cfg.Servers, cfg.ServerID)
		if !ok {
			log.Error("this server is not among the cluster's members", zap.Int("myid", cfg.ServerID),
				zap.String("hint", "set dataDir/myid (or -myid) to the N of one server.N line"))
			return 2
		}
		if !explicit["listen"] && self.ClientAddr != "" {
			addr = self.ClientAddr
		}
	}
	if explicit["data-dir"] || cfg.DataDir == "" {
		cfg.DataDir = *dataDir
	}
	if cfg.DataDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		cfg.DataDir = filepath.Join(base, "herd", "data")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		log.Error("cannot create data dir", zap.Error(err))
		return 1
	}

	srv, err := server.New(ctx, cfg)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		if errors.Is(err, cluster.ErrConfig) {
			return 2
		}
		return 1
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("cannot listen", zap.String("addr", addr), zap.Error(err))
		shutdown(srv, log)
		return 1
	}
	role := ""
	if len(cfg.Servers) > 0 {
		role = fmt.Sprintf(", server.%d of %d", cfg.ServerID, len(cfg.Servers))
	}
	fmt.Fprintf(stdout, "herd %s serving ZooKeeper clients on %s (data dir %s%s)\n", version(), l.Addr(), cfg.DataDir, role)
	stopHTTP := startHTTP(ctx, srv, planHTTP(ops, explicit, zc, log), stdout, log)
	defer stopHTTP()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-served:
		if !errors.Is(err, server.ErrServerClosed) {
			log.Error("serve failed", zap.Error(err))
			shutdown(srv, log)
			return 1
		}
	}
	if !shutdown(srv, log) {
		return 1
	}
	return 0
}

func shutdown(srv *server.Server, log *zap.Logger) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown", zap.Error(err))
		return false
	}
	return true
}

// applyZooCfg maps zoo.cfg settings onto the server's configuration.
func applyZooCfg(cfg *server.Config, zc *zoocfg.Config, log *zap.Logger) {
	cfg.DataDir = zc.DataDir
	cfg.DataLogDir = zc.DataLogDir
	cfg.TickTime = zc.TickTime
	cfg.MinSessionTimeout = zc.MinSessionTimeout
	cfg.MaxSessionTimeout = zc.MaxSessionTimeout
	cfg.MaxClientCnxns = zc.MaxClientCnxns
	cfg.MaxBuffer = zc.JuteMaxBuffer
	cfg.FourLetterWords = zc.FourLetterWhitelist
	cfg.SuperDigest = zc.SuperDigest
	cfg.ExtendedTypes = zc.ExtendedTypesEnabled
	cfg.ServerID = zc.MyID
	cfg.LogSegmentSize = zc.PreAllocSize
	cfg.MaxOutstandingRequests = zc.GlobalOutstandingLimit
	cfg.MaxQueuedBytes = zc.MaxQueuedBytes
	cfg.MaxOutboundBytes = zc.MaxOutboundBytes
	cfg.ReconfigEnabled = zc.ReconfigEnabled
	cfg.SnapCount = zc.SnapCount
	cfg.SlowRequest = zc.SlowRequest
	if zc.Distributed() {
		cfg.Servers = zooCfgMembers(zc)
		log.Info("cluster member", zap.Int("myid", zc.MyID), zap.Int("servers", len(zc.Servers)),
			zap.String("note", "failure detection uses herd's Raft timeouts, not tickTime×syncLimit"))
	}
}

// zooCfgMembers lists zoo.cfg's server.N lines, sorted by id.
func zooCfgMembers(zc *zoocfg.Config) []cluster.Member {
	ids := make([]int, 0, len(zc.Servers))
	for id := range zc.Servers {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]cluster.Member, 0, len(ids))
	for _, id := range ids {
		out = append(out, cluster.Member{ID: id, Server: zc.Servers[id]})
	}
	return out
}

func memberByID(ms []cluster.Member, id int) (cluster.Member, bool) {
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return cluster.Member{}, false
}

// serverFlags collects repeated -server N=… flags.
type serverFlags []cluster.Member

func (s *serverFlags) String() string {
	var out []string
	for _, m := range *s {
		out = append(out, m.Line())
	}
	return strings.Join(out, ",")
}

func (s *serverFlags) Set(v string) error {
	if !strings.HasPrefix(v, "server.") {
		v = "server." + v
	}
	m, err := cluster.ParseMember(0, v)
	if err != nil {
		return err
	}
	for _, o := range *s {
		if o.ID == m.ID {
			return fmt.Errorf("server.%d is given twice", m.ID)
		}
	}
	*s = append(*s, m)
	return nil
}

func newLogger(level string, w io.Writer) (*zap.Logger, error) {
	return newLoggerFormat(level, "console", w)
}

func version() string { return fourlw.Version + "-" + fourlw.BuildID }
