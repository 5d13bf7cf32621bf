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
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/fourlw"
	"github.com/herd-io/herd/server/zoocfg"
)

// serve runs one node until ctx is cancelled (SIGINT/SIGTERM).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "localhost:2181", "client address to listen on (host:port)")
	dataDir := fs.String("data-dir", "", "data directory (default: herd/data under the user's cache dir)")
	configFile := fs.String("config", "", "a ZooKeeper zoo.cfg to read settings from")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "herd serve:", err)
		return 2
	}
	defer log.Sync()

	cfg := server.Config{Logger: log, FourLetterWords: []string{"srvr"}}
	addr := *listen
	if *configFile != "" {
		zc, err := zoocfg.Load(*configFile)
		if err != nil {
			log.Error("cannot read config", zap.Error(err))
			return 2
		}
		applyZooCfg(&cfg, zc, log)
		if !explicit["listen"] && zc.ClientPort != 0 {
			addr = zc.ClientAddr()
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
		return 1
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("cannot listen", zap.String("addr", addr), zap.Error(err))
		shutdown(srv, log)
		return 1
	}
	fmt.Fprintf(stdout, "herd %s serving ZooKeeper clients on %s (data dir %s)\n", version(), l.Addr(), cfg.DataDir)
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
	if zc.Distributed() {
		log.Warn("server.N lines found: this build runs a single node; ensemble support is a later issue",
			zap.Int("servers", len(zc.Servers)), zap.Int("myid", zc.MyID))
	}
	for k, v := range zc.Extra {
		log.Info("zoo.cfg setting ignored", zap.String("key", k), zap.String("value", v))
	}
}

func newLogger(level string, w io.Writer) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.Set(level); err != nil {
		return nil, fmt.Errorf("bad -log-level %q: %w", level, err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), lvl)
	return zap.New(core), nil
}

func version() string { return fourlw.Version + "-" + fourlw.BuildID }
