// Package admin is herd's HTTP front end for operators: ZooKeeper 3.8's
// AdminServer commands at /commands/<name> (JSON with ZooKeeper's field
// names), /healthz and /readyz for orchestrators, and a read-only web view
// of the cluster, its sessions and the znode tree at /.
//
// Every figure comes from the node's fourlw.Source, the same data the
// four-letter words print.
//
//	h := admin.Handler(srv, admin.Options{})
//	go http.Serve(listener, h)
package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server"
)

// DefaultPort is ZooKeeper's admin.serverPort default.
const DefaultPort = 8080

// DefaultCommandURL is ZooKeeper's admin.commandURL default.
const DefaultCommandURL = "/commands"

// Options adjust the handler.
type Options struct {
	// CommandURL is where the commands live (admin.commandURL). Default
	// "/commands".
	CommandURL string
	// Logger receives request failures. Default: none.
	Logger *zap.Logger
}

// Handler returns the AdminServer's routes for srv.
func Handler(srv *server.Server, opts Options) http.Handler {
	if opts.CommandURL == "" {
		opts.CommandURL = DefaultCommandURL
	}
	opts.CommandURL = "/" + strings.Trim(opts.CommandURL, "/")
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	a := &adminServer{srv: srv, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+opts.CommandURL, a.listCommands)
	mux.HandleFunc("GET "+opts.CommandURL+"/{name}", a.command)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.HandleFunc("GET /{$}", a.overview)
	mux.HandleFunc("GET /tree/{path...}", a.tree)
	mux.Handle("GET /tree", http.RedirectHandler("/tree/", http.StatusMovedPermanently))
	return mux
}

type adminServer struct {
	srv  *server.Server
	opts Options
}

// healthz answers 200 while the node can write its log (the condition ruok
// reports), 503 otherwise.
func (a *adminServer) healthz(w http.ResponseWriter, _ *http.Request) {
	if err := a.srv.Health(); err != nil {
		http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// readyz answers 200 while the node serves clients: healthy, a leader known
// and its replica current. Otherwise 503: an orchestrator should not send
// clients to it.
func (a *adminServer) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := a.srv.Health(); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if st := a.srv.Cluster().State(); !st.Ready {
		http.Error(w, "not ready: no leader", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Serve runs an HTTP server for h on l until ctx ends, then shuts it down
// within a few seconds. It returns nil after a shutdown.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err // the shutdown goroutine ends with ctx
	}
	<-done
	return nil
}

// unixMilli is t in Unix milliseconds, 0 for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
