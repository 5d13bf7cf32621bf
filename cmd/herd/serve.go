package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/cmd/herd/internal/idlemem"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/tlsconf"
	"github.com/herd-io/herd/server/zoocfg"
)

// serve runs one node until ctx is cancelled (SIGINT/SIGTERM).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "localhost:2181", "client address to listen on (host:port)")
	dataDir := fs.String("data-dir", "", "data directory (default: $XDG_DATA_HOME/herd, else ~/.local/share/herd)")
	configFile := fs.String("config", "", "a ZooKeeper zoo.cfg to read settings from (server.N lines and dataDir/myid form a cluster)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	myid := fs.Int("myid", 0, "this server's id in a cluster (instead of dataDir/myid)")
	var servers serverFlags
	fs.Var(&servers, "server", "a cluster member, `N=host:peerPort:electionPort[:participant|:observer][;clientAddr]` (repeat for each; instead of zoo.cfg's server.N lines)")
	reconfig := fs.Bool("reconfig-enabled", false, "allow the reconfig operation (zoo.cfg reconfigEnabled)")
	ops := addOpsFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: herd serve [flags]\n\nRuns a herd server node: one standalone node, or a cluster member with --config or --server.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		// flag stops at the first non-flag, so every flag after it would be
		// dropped silently.
		fmt.Fprintf(stderr, "herd serve: unexpected argument %q (herd serve takes only flags)\n", fs.Arg(0))
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
	var secure *zoocfg.Config // set when zoo.cfg has a secureClientPort or client.portUnification
	var secureTLS *tls.Config
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
		if zc.SecurePort != 0 || zc.PortUnification {
			if secureTLS, err = tlsconf.ServerConfig(zc.TLS); err != nil {
				log.Error("cannot read TLS settings", zap.Error(err))
				return 2
			}
			secure = zc
		}
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
		dir, moveTo, err := defaultDataDir()
		if err != nil {
			log.Error("no data dir", zap.Error(err))
			return 2
		}
		cfg.DataDir = dir
		if moveTo != "" {
			log.Warn("using the data dir of an older herd, in the cache dir, where cleaners may delete it: stop herd and move it",
				zap.String("dataDir", dir), zap.String("moveTo", moveTo))
		}
	}

	// Ports first: one in use is refused before anything is written.
	ls, err := listenAll(addr, cfg.Servers, cfg.ServerID)
	if err != nil {
		log.Error("cannot listen", zap.Error(err))
		return 1
	}
	l := ls.client
	cfg.PeerListener, cfg.ElectionListener = ls.peer, ls.election
	if secure != nil && secure.PortUnification {
		l = tlsconf.Unified(l, secureTLS) // TLS and plain clients on one port
	}
	var sl net.Listener
	if secure != nil && secure.SecurePort != 0 {
		if sl, err = listenTLS(secure, secureTLS); err != nil {
			ls.close()
			log.Error("cannot listen", zap.Error(err))
			return 1
		}
	}
	closeListeners := func() {
		ls.close()
		if sl != nil {
			sl.Close()
		}
	}

	lock, err := claimDataDirs(cfg.DataDir, cfg.DataLogDir)
	if err != nil {
		closeListeners()
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	defer lock.release()

	srv, err := server.New(ctx, cfg)
	if err != nil {
		closeListeners()
		log.Error("cannot start", zap.Error(err))
		if errors.Is(err, cluster.ErrConfig) {
			return 2
		}
		return 1
	}
	role := ""
	if len(cfg.Servers) > 0 {
		role = fmt.Sprintf(", server.%d of %d", cfg.ServerID, len(cfg.Servers))
	}
	fmt.Fprintf(stdout, "herd %s serving ZooKeeper clients on %s (data dir %s%s)\n", version(), l.Addr(), cfg.DataDir, role)
	if sl != nil {
		fmt.Fprintf(stdout, "herd serving ZooKeeper clients over TLS on %s\n", sl.Addr())
	}
	stopHTTP := startHTTP(ctx, srv, planHTTP(ops, explicit, zc, log), stdout, log)
	defer stopHTTP()
	// After a burst of writes, give the freed heap back at once rather than
	// over minutes (docs/cluster.md).
	idleCtx, stopIdle := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); idlemem.New(log).Run(idleCtx) }()
	defer func() { stopIdle(); <-watched }()
	served := make(chan error, 2)
	go func() { served <- srv.Serve(l) }()
	if sl != nil {
		go func() { served <- srv.Serve(sl) }()
	}
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

// listeners are serve's ports, opened before anything else happens.
type listeners struct{ client, peer, election net.Listener }

// listenAll opens the client address and, for a cluster member, its peer
// and election ports, so that a port in use is refused at once, before the
// data dir is created or an election held.
func listenAll(client string, members []cluster.Member, myid int) (*listeners, error) {
	ls := &listeners{}
	var err error
	if ls.client, err = net.Listen("tcp", client); err != nil {
		return nil, fmt.Errorf("client address %s: %w", client, err)
	}
	if self, ok := memberByID(members, myid); ok {
		peer := net.JoinHostPort(self.Host, strconv.Itoa(self.PeerPort))
		if ls.peer, err = net.Listen("tcp", peer); err != nil {
			ls.close()
			return nil, fmt.Errorf("%s peer address %s: %w", self.Key(), peer, err)
		}
		election := net.JoinHostPort(self.Host, strconv.Itoa(self.ElectionPort))
		if ls.election, err = net.Listen("tcp", election); err != nil {
			ls.close()
			return nil, fmt.Errorf("%s election address %s: %w", self.Key(), election, err)
		}
	}
	return ls, nil
}

func (ls *listeners) close() {
	for _, l := range []net.Listener{ls.client, ls.peer, ls.election} {
		if l != nil {
			l.Close()
		}
	}
}

// dataDirLocks are the locks on the data dir and a separate log dir.
type dataDirLocks []*dataDirLock

// claimDataDirs creates the data dir (and the log dir, zoo.cfg dataLogDir,
// when it is another) and locks each for this process.
func claimDataDirs(dirs ...string) (dataDirLocks, error) {
	var out dataDirLocks
	for i, dir := range dirs {
		if dir == "" || (i > 0 && dir == dirs[0]) {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			out.release()
			return nil, fmt.Errorf("cannot create data dir: %w", err)
		}
		l, err := lockDataDir(dir)
		if err != nil {
			out.release()
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func (ls dataDirLocks) release() {
	for _, l := range ls {
		l.release()
	}
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
	cfg.EnforceQuota = zc.EnforceQuota
	cfg.ServerID = zc.MyID
	cfg.LogSegmentSize = zc.PreAllocSize
	cfg.MaxOutstandingRequests = zc.GlobalOutstandingLimit
	cfg.MaxQueuedBytes = zc.MaxQueuedBytes
	cfg.MaxOutboundBytes = zc.MaxOutboundBytes
	cfg.ReconfigEnabled = zc.ReconfigEnabled
	cfg.SnapCount = zc.SnapCount
	cfg.SlowRequest = zc.SlowRequest
	if zc.PurgeInterval > 0 {
		// herd purges as each snapshot is taken, not on a timer.
		cfg.SnapshotsRetained = zc.SnapRetainCount
	}
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

// version is herd's own version, as herd version prints it first.
func version() string {
	info, _ := debug.ReadBuildInfo()
	return ownVersion(info)
}
