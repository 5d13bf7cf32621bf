package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/server/cluster"
)

const clusterUsage = `usage: herd cluster <list|add|remove> [flags] [args]

  list                         print the members (/zookeeper/config) and each one's mode
  add server.N=host:peerPort:electionPort[:participant|:observer][;clientAddr] ...
                               add members, or change a member's role or address
  remove N ...                 remove members by id

add and remove use ZooKeeper's reconfig: the servers need reconfigEnabled=true,
and the caller must be the super user (-auth user:password).
`

// clusterCmd runs herd cluster list|add|remove against a running cluster
// (herd or ZooKeeper) through the ZooKeeper protocol.
func clusterCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "add" && args[0] != "remove") {
		fmt.Fprint(stderr, clusterUsage)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("herd cluster "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	servers := fs.String("server", "localhost:2181", "comma-separated client addresses of the cluster's servers")
	auth := fs.String("auth", "", "digest credentials, `user:password` (reconfig needs the super user)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the cluster")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if sub == "list" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herd cluster list: unexpected argument %q (list takes only flags)\n", fs.Arg(0))
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var joining, leaving []string
	switch sub {
	case "add":
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "herd cluster add: give at least one server.N=... line")
			return 2
		}
		for _, a := range fs.Args() {
			m, err := cluster.ParseMember(0, a)
			if err != nil {
				fmt.Fprintln(stderr, "herd cluster add:", err)
				return 2
			}
			joining = append(joining, m.Line())
		}
	case "remove":
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "herd cluster remove: give at least one server id")
			return 2
		}
		for _, a := range fs.Args() {
			id := strings.TrimPrefix(a, "server.")
			if _, err := fmt.Sscanf(id, "%d", new(int)); err != nil {
				fmt.Fprintf(stderr, "herd cluster remove: %q is not a server id\n", a)
				return 2
			}
			leaving = append(leaving, id)
		}
	}

	conn, err := connectZK(ctx, strings.Split(*servers, ","))
	if err != nil {
		fmt.Fprintln(stderr, "herd cluster:", err)
		return 1
	}
	defer conn.Close()
	if *auth != "" {
		if err := conn.AddAuth("digest", []byte(*auth)); err != nil {
			fmt.Fprintln(stderr, "herd cluster: auth:", err)
			return 1
		}
	}
	var version int64
	if sub != "list" {
		st, err := conn.IncrementalReconfig(joining, leaving, -1)
		if err != nil {
			fmt.Fprintf(stderr, "herd cluster %s: reconfig: %v\n", sub, err)
			return 1
		}
		version = st.Mzxid
	}
	data, err := readConfig(ctx, conn, version)
	if err != nil {
		fmt.Fprintln(stderr, "herd cluster: read /zookeeper/config:", err)
		return 1
	}
	printMembers(stdout, string(data))
	return 0
}

// readConfig reads /zookeeper/config once it shows the change at zxid
// version. The server this session is attached to may be one the change
// removed, which never sees it: it soon drops the session's connection, and
// the client moves to a member.
func readConfig(ctx context.Context, conn *zk.Conn, version int64) ([]byte, error) {
	for {
		_, _ = conn.Sync("/zookeeper/config")
		data, st, err := conn.Get("/zookeeper/config")
		if err == nil && st.Mzxid >= version {
			return data, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("still at version %x, want %x", st.Mzxid, version)
			}
			return nil, fmt.Errorf("%w (%w)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// connectZK opens a go-zookeeper session and waits for it.
func connectZK(ctx context.Context, servers []string) (*zk.Conn, error) {
	conn, events, err := zk.Connect(servers, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		return nil, err
	}
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return conn, nil
			}
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("no session with %s: %w", strings.Join(servers, ","), ctx.Err())
		}
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}

// printMembers prints the membership and, where srvr answers, each
// member's mode.
func printMembers(w io.Writer, config string) {
	if strings.TrimSpace(config) == "" {
		fmt.Fprintln(w, "standalone server (no members)")
		return
	}
	for _, line := range strings.Split(config, "\n") {
		if strings.HasPrefix(line, "version=") {
			fmt.Fprintln(w, line)
			continue
		}
		m, err := cluster.ParseMember(0, line)
		if err != nil {
			fmt.Fprintln(w, line)
			continue
		}
		mode := "?"
		if m.ClientAddr != "" {
			addr := m.ClientAddr
			if host, port, err := net.SplitHostPort(addr); err == nil && (host == "0.0.0.0" || host == "::") {
				addr = net.JoinHostPort(m.Host, port)
			}
			if st, ok := zk.FLWSrvr([]string{addr}, 2*time.Second); ok {
				mode = srvrMode(st[0].Mode)
			} else {
				mode = "not serving"
			}
		}
		fmt.Fprintf(w, "%s\t%s\n", line, mode)
	}
}

func srvrMode(m zk.Mode) string {
	switch m {
	case zk.ModeLeader:
		return "leader"
	case zk.ModeFollower:
		return "follower"
	case zk.ModeStandalone:
		return "standalone"
	}
	return "observer"
}
