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
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/tree"
)

// devSuper is the super user of a dev cluster, so that herd cluster add and
// remove (and zkCli's reconfig) work against it out of the box.
const devSuper = "super:herd"

// dev runs a local cluster in this process until ctx is cancelled.
func dev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 3, "number of voting members")
	observers := fs.Int("observers", 0, "number of observers (non-voting members)")
	dataDir := fs.String("data-dir", "", "directory for the members' data (default: a temporary directory, removed at exit)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herd dev: unexpected argument %q (herd dev takes only flags)\n", fs.Arg(0))
		return 2
	}
	if *nodes < 1 || *observers < 0 {
		fmt.Fprintln(stderr, "herd dev: -nodes must be at least 1 and -observers not negative")
		return 2
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "herd dev:", err)
		return 2
	}
	defer log.Sync()
	root := *dataDir
	if root == "" {
		if root, err = os.MkdirTemp("", "herd-dev-"); err != nil {
			fmt.Fprintln(stderr, "herd dev:", err)
			return 1
		}
		defer os.RemoveAll(root)
	}

	d, err := startDev(ctx, root, *nodes, *observers, log)
	if err != nil {
		log.Error("cannot start the dev cluster", zap.Error(err))
		return 1
	}
	defer d.stop(log)
	leader, err := d.waitLeader(ctx)
	if err != nil {
		log.Error("no leader", zap.Error(err))
		return 1
	}
	fmt.Fprintf(stdout, "herd %s dev cluster: %d members on 127.0.0.1 (data in %s)\n", version(), len(d.members), root)
	for i, m := range d.members {
		note := ""
		if i+1 == leader {
			note = "  (leader)"
		}
		fmt.Fprintf(stdout, "  %s%s\n", m.Line(), note)
	}
	fmt.Fprintf(stdout, "reconfig as the super user: herd cluster add -server %s -auth %s server.N=...\n", d.addrs[0], devSuper)
	fmt.Fprintf(stdout, "connect string: %s\n", strings.Join(d.addrs, ","))
	select {
	case <-ctx.Done():
	case err := <-d.failed:
		log.Error("a member stopped serving", zap.Error(err))
		return 1
	}
	return 0
}

type devCluster struct {
	members []cluster.Member
	addrs   []string
	servers []*server.Server
	locks   dataDirLocks
	failed  chan error
}

func startDev(ctx context.Context, root string, voters, observers int, log *zap.Logger) (*devCluster, error) {
	n := voters + observers
	d := &devCluster{failed: make(chan error, n)}
	type trio struct{ client, peer, elec net.Listener }
	ls := make([]trio, 0, n)
	closeAll := func() {
		for _, t := range ls {
			for _, l := range []net.Listener{t.client, t.peer, t.elec} {
				if l != nil {
					l.Close()
				}
			}
		}
	}
	for i := range n {
		var t trio
		for _, l := range []*net.Listener{&t.client, &t.peer, &t.elec} {
			x, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				ls = append(ls, t)
				closeAll()
				return nil, err
			}
			*l = x
		}
		ls = append(ls, t)
		role := "participant"
		if i >= voters {
			role = "observer"
		}
		m, err := cluster.ParseMember(i+1, fmt.Sprintf("127.0.0.1:%d:%d:%s;%s", t.peer.Addr().(*net.TCPAddr).Port,
			t.elec.Addr().(*net.TCPAddr).Port, role, t.client.Addr()))
		if err != nil {
			closeAll()
			return nil, err
		}
		d.members = append(d.members, m)
		d.addrs = append(d.addrs, t.client.Addr().String())
	}
	for i, t := range ls {
		dir := filepath.Join(root, fmt.Sprintf("n%d", i+1))
		lock, err := claimDataDirs(dir)
		if err != nil {
			closeAll()
			d.stop(log)
			return nil, err
		}
		d.locks = append(d.locks, lock...)
		cfg := server.Config{
			DataDir:          dir,
			ServerID:         i + 1,
			Servers:          d.members,
			ReconfigEnabled:  true,
			SuperDigest:      tree.DigestID(devSuper),
			FourLetterWords:  []string{"*"},
			PeerListener:     t.peer,
			ElectionListener: t.elec,
			Logger:           log.Named(fmt.Sprintf("server.%d", i+1)),
		}
		srv, err := server.New(ctx, cfg)
		if err != nil {
			t.client.Close()
			for _, rest := range ls[i+1:] {
				rest.client.Close()
				rest.peer.Close()
				rest.elec.Close()
			}
			d.stop(log)
			return nil, err
		}
		d.servers = append(d.servers, srv)
		go func(l net.Listener) {
			if err := srv.Serve(l); !errors.Is(err, server.ErrServerClosed) {
				d.failed <- err
			}
		}(t.client)
	}
	return d, nil
}

// waitLeader waits until every member follows one leader and returns its id.
func (d *devCluster) waitLeader(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		leader := 0
		agreed := true
		for _, s := range d.servers {
			st := s.Cluster().State()
			if !st.Ready || (leader != 0 && st.Leader != leader) {
				agreed = false
				break
			}
			leader = st.Leader
		}
		if agreed && leader != 0 {
			return leader, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (d *devCluster) stop(log *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, s := range d.servers {
		if err := s.Shutdown(ctx); err != nil {
			log.Warn("shutdown", zap.Error(err))
		}
	}
	d.locks.release()
}
