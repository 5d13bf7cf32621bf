package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/admin"
	"github.com/herd-io/herd/server/metrics"
	"github.com/herd-io/herd/server/zoocfg"
)

// opsFlags are herd serve's flags for the HTTP side and logging.
type opsFlags struct {
	logFormat   *string
	strict      *bool
	adminAddr   *string
	metricsAddr *string
	pprofAddr   *string
	slowMs      *int
}

func addOpsFlags(fs interface {
	String(name, value, usage string) *string
	Bool(name string, value bool, usage string) *bool
	Int(name string, value int, usage string) *int
}) opsFlags {
	// Without zoo.cfg herd serves clients on loopback only, and so the
	// AdminServer: its web view shows what any client could read. A zoo.cfg
	// gets ZooKeeper's default, every interface.
	def := net.JoinHostPort("127.0.0.1", strconv.Itoa(zoocfg.DefaultAdminPort))
	return opsFlags{
		logFormat:   fs.String("log-format", "console", "log format: console or json"),
		strict:      fs.Bool("strict", false, "refuse to start when zoo.cfg has a key herd does not honour or know"),
		adminAddr:   fs.String("admin-addr", def, "AdminServer and web view address (default with --config: zoo.cfg admin.serverAddress/admin.serverPort, as ZooKeeper, 0.0.0.0:8080); \"off\" disables it"),
		metricsAddr: fs.String("metrics-addr", "", "Prometheus metrics address (default: zoo.cfg's metricsProvider.httpHost/httpPort when metricsProvider.className names the Prometheus provider; off otherwise)"),
		pprofAddr:   fs.String("pprof-addr", "", "serve Go's profiles (net/http/pprof, under /debug/pprof/) on this address; off by default, as they show the process's memory"),
		slowMs:      fs.Int("slow-request-ms", 0, "warn about requests slower than this many milliseconds (zoo.cfg herd.slowRequestMs); 0 is off"),
	}
}

// httpPlan says which HTTP listeners to start.
type httpPlan struct {
	adminAddr, metricsAddr, pprofAddr, commandURL string
	exportRuntime                                 bool
}

// planHTTP resolves the admin and metrics addresses: flags over zoo.cfg over
// ZooKeeper's defaults (AdminServer on, metrics off).
func planHTTP(f opsFlags, explicit map[string]bool, zc *zoocfg.Config, log *zap.Logger) httpPlan {
	p := httpPlan{adminAddr: *f.adminAddr, pprofAddr: *f.pprofAddr, commandURL: admin.DefaultCommandURL, exportRuntime: true}
	if zc != nil {
		p.commandURL, p.exportRuntime = zc.AdminCommandURL, zc.MetricsExportRuntime
		if !explicit["admin-addr"] {
			p.adminAddr = zc.AdminAddr()
			if !zc.AdminEnabled {
				p.adminAddr = "off"
			}
		}
		switch {
		case zc.PrometheusEnabled():
			p.metricsAddr = zc.MetricsAddr()
		case zc.MetricsProvider != "":
			log.Warn("metrics provider not supported; only ZooKeeper's Prometheus provider is",
				zap.String("key", "metricsProvider.className"), zap.String("value", zc.MetricsProvider),
				zap.String("supported", zoocfg.PrometheusProvider))
		}
	}
	if explicit["metrics-addr"] {
		p.metricsAddr = *f.metricsAddr
	}
	if p.adminAddr == "off" {
		p.adminAddr = ""
	}
	if p.metricsAddr == "off" {
		p.metricsAddr = ""
	}
	return p
}

// startHTTP starts the AdminServer and the metrics endpoint as planned. A
// port that cannot be opened is logged and skipped, as ZooKeeper carries on
// without its AdminServer: the coordination service matters more. The
// returned function stops them.
func startHTTP(ctx context.Context, srv *server.Server, p httpPlan, stdout io.Writer, log *zap.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	run := func(what, addr string, h http.Handler) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			log.Warn("cannot start "+what, zap.String("addr", addr), zap.Error(err))
			return
		}
		fmt.Fprintf(stdout, "herd %s on http://%s\n", what, l.Addr())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := admin.Serve(ctx, l, h); err != nil && !errors.Is(err, net.ErrClosed) {
				log.Warn(what+" stopped", zap.Error(err))
			}
		}()
	}
	if p.adminAddr != "" {
		run("AdminServer", p.adminAddr, admin.Handler(srv, admin.Options{CommandURL: p.commandURL, Logger: log.Named("admin")}))
	}
	if p.metricsAddr != "" {
		gs := []prometheus.Gatherer{srv.Metrics()}
		if p.exportRuntime {
			gs = append(gs, metrics.Runtime())
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler(gs...))
		run("Prometheus metrics", p.metricsAddr, mux)
	}
	if p.pprofAddr != "" {
		// Its own mux: importing net/http/pprof also registers on
		// http.DefaultServeMux, which herd never serves.
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		run("pprof", p.pprofAddr, mux)
	}
	return func() { cancel(); wg.Wait() }
}

// warnIgnored logs each zoo.cfg line herd does not act on, naming the key
// and the line; under --strict it reports false so that serve refuses.
func warnIgnored(zc *zoocfg.Config, strict bool, log *zap.Logger) bool {
	for _, ig := range zc.Ignored {
		fields := []zap.Field{zap.String("key", ig.Key), zap.Int("line", ig.Line)}
		if ig.Suggestion != "" {
			fields = append(fields, zap.String("didYouMean", ig.Suggestion))
		}
		if strict {
			log.Error("zoo.cfg: "+ig.String(), fields...)
		} else {
			log.Warn("zoo.cfg: "+ig.String(), fields...)
		}
	}
	return !strict || len(zc.Ignored) == 0
}

// newLoggerFormat builds herd serve's logger: console (human-readable) or
// JSON lines, at level.
func newLoggerFormat(level, format string, w io.Writer) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.Set(level); err != nil {
		return nil, fmt.Errorf("bad -log-level %q: %w", level, err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	var e zapcore.Encoder
	switch format {
	case "console":
		e = zapcore.NewConsoleEncoder(enc)
	case "json":
		e = zapcore.NewJSONEncoder(enc)
	default:
		return nil, fmt.Errorf("bad -log-format %q: want console or json", format)
	}
	return zap.New(zapcore.NewCore(e, zapcore.AddSync(w), lvl)), nil
}
