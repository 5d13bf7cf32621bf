// Command config-watcher follows a configuration znode and prints each new
// version of its data, like kazoo's DataWatch example:
//
//	@zk.DataWatch("/config")
//	def watch(data, stat):
//	    print("Version: %s, data: %s" % (stat.version, data.decode("utf-8")))
//
// Run it with: go run ./examples/config-watcher -server 127.0.0.1:2181 -path /config
// and change the node with zkCli.sh or `herd shell`. It keeps watching across
// reconnects and session expiry, and exits on Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
	"go.uber.org/zap"
)

func main() {
	server := flag.String("server", "127.0.0.1:2181", "ZooKeeper connect string (host:port[,host:port][/chroot])")
	path := flag.String("path", "/config", "znode to watch")
	verbose := flag.Bool("v", false, "log connection details")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := zap.NewNop()
	if *verbose {
		l, err := zap.NewDevelopment()
		if err != nil {
			fmt.Fprintln(os.Stderr, "config-watcher:", err)
			os.Exit(1)
		}
		logger = l
	}
	if err := run(ctx, os.Stdout, *server, *path, logger); err != nil {
		fmt.Fprintln(os.Stderr, "config-watcher:", err)
		os.Exit(1)
	}
}

// run watches path on server and writes each version to out until ctx ends.
func run(ctx context.Context, out io.Writer, server, path string, logger *zap.Logger) error {
	c, err := framework.New(server, framework.WithLogger(logger), framework.WithSessionTimeout(15*time.Second))
	if err != nil {
		return err
	}
	defer c.Close()
	var mu sync.Mutex // the listener and the watch print from different goroutines
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format, args...)
	}
	c.AddListener(func(s framework.ConnectionState) { say("connection: %s\n", s) })

	// ctx bounds the first read; the watch itself lives until Stop.
	w, err := c.DataWatch(ctx, path, func(data []byte, st *zk.Stat) bool {
		if st == nil {
			say("%s does not exist (waiting for it)\n", path)
		} else {
			say("Version: %d, data: %s\n", st.Version, data)
		}
		return true
	})
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done(): // interrupted
		w.Stop()
		<-w.Done()
		return nil
	case <-w.Done():
		return w.Err()
	}
}
