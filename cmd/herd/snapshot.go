package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/backup"
	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/fsm"
	"github.com/herd-io/herd/server/zoocfg"
)

const snapshotUsage = `usage: herd snapshot save FILE --server HOST:PORT [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]
       herd snapshot restore FILE --data-dir DIR [--config zoo.cfg | --server N=... --myid N]

save     stream a consistent snapshot of a running node's data to FILE (the node
         must list "snap" in 4lw.commands.whitelist; "*" does not include it)
restore  seed a new node's data directory from FILE; for a new cluster, restore
         the same FILE into every member's data dir with the cluster's members
`

// snapshotCmd runs herd snapshot save|restore.
func snapshotCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, snapshotUsage)
		return 2
	}
	switch args[0] {
	case "save":
		return snapshotSave(ctx, args[1:], stdout, stderr)
	case "restore":
		return snapshotRestore(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, snapshotUsage)
		return 0
	}
	fmt.Fprintf(stderr, "herd snapshot: unknown command %q\n\n%s", args[0], snapshotUsage)
	return 2
}

// fileAndFlags splits "FILE --flags..." or "--flags... FILE".
func fileAndFlags(fs *flag.FlagSet, args []string) (string, error) {
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if file == "" {
		return "", errors.New("no FILE given")
	}
	return file, nil
}

func snapshotSave(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd snapshot save", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("server", "", "the node to back up, host:port of its client (or TLS) port")
	ca := fs.String("tls-ca", "", "connect with TLS, trusting the CA certificates in this PEM file")
	cert := fs.String("tls-cert", "", "client certificate (PEM) for a TLS port that needs one")
	key := fs.String("tls-key", "", "the client certificate's private key (PEM)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	file, err := fileAndFlags(fs, args)
	if err == nil && *addr == "" {
		err = errors.New("--server is required")
	}
	if err != nil {
		fmt.Fprintf(stderr, "herd snapshot save: %v\n\n%s", err, snapshotUsage)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	zxid, n, err := saveBackup(ctx, *addr, file, tlsOptions{ca: *ca, cert: *cert, key: *key})
	if err != nil {
		fmt.Fprintf(stderr, "herd snapshot save: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "saved %s: state at zxid 0x%x (%d bytes) from %s\n", file, zxid, n, *addr)
	return 0
}

type tlsOptions struct{ ca, cert, key string }

func (o tlsOptions) config(addr string) (*tls.Config, error) {
	if o.ca == "" {
		if o.cert != "" || o.key != "" {
			return nil, errors.New("--tls-cert and --tls-key need --tls-ca")
		}
		return nil, nil
	}
	pem, err := os.ReadFile(o.ca)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--tls-ca: %s holds no PEM certificate", o.ca)
	}
	host, _, _ := net.SplitHostPort(addr)
	cfg := &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
	if o.cert != "" || o.key != "" {
		c, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// saveBackup asks addr for a backup and writes it to file only once all of
// it arrived and checked out (a temporary file renamed into place).
func saveBackup(ctx context.Context, addr, file string, to tlsOptions) (zxid, size int64, err error) {
	tc, err := to.config(addr)
	if err != nil {
		return 0, 0, err
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	var nc net.Conn
	if tc != nil {
		nc, err = (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, "tcp", addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return 0, 0, err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if _, err := io.WriteString(nc, server.BackupWord); err != nil {
		return 0, 0, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	head, err := br.Peek(len(backup.Magic))
	if err != nil || string(head) != backup.Magic {
		// Not a backup: the node says why (e.g. not in the whitelist).
		text, _ := io.ReadAll(io.LimitReader(br, 4096))
		msg := string(append(head, text...))
		if msg == "" {
			msg = "the node closed the connection without answering"
		}
		return 0, 0, fmt.Errorf("%s refused: %s", addr, trimNewline(msg))
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	zxid, size, err = checkBackup(io.TeeReader(br, tmp))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return 0, 0, err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return 0, 0, err
	}
	return zxid, size, nil
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// checkBackup reads a whole backup, checking its framing and checksum and
// decoding the snapshot inside, and returns the snapshot's zxid and size.
func checkBackup(r io.Reader) (zxid, size int64, err error) {
	err = withSnapshot(r, func(state io.Reader) error {
		var derr error
		zxid, derr = fsm.SnapshotZxid(state)
		_, _ = io.Copy(io.Discard, state) // let the framing reach its checksum
		return derr
	}, &size)
	return zxid, size, err
}

// withSnapshot unframes the backup in r and hands the snapshot to use as a
// stream. It fails if either the framing (a cut or damaged file) or use fails.
func withSnapshot(r io.Reader, use func(io.Reader) error, size *int64) error {
	pr, pw := io.Pipe()
	read := make(chan error, 1)
	go func() {
		n, err := backup.Read(r, pw)
		if size != nil {
			*size = n
		}
		pw.CloseWithError(err) // nil: EOF for the reader
		read <- err
	}()
	uerr := use(pr)
	pr.CloseWithError(errors.New("snapshot consumer stopped")) // unblock the framing goroutine
	rerr := <-read
	switch {
	case errors.Is(rerr, backup.ErrBadBackup):
		return rerr // the cause of whatever use saw
	case uerr != nil:
		return uerr
	}
	return rerr
}

func snapshotRestore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd snapshot restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "the new node's data directory (default: the config's dataDir)")
	configFile := fs.String("config", "", "the new node's zoo.cfg (its server.N lines are the new cluster's members)")
	myid := fs.Int("myid", 0, "this node's id in the new cluster (instead of dataDir/myid)")
	var servers serverFlags
	fs.Var(&servers, "server", "a member of the new cluster, `N=host:peerPort:electionPort[;clientAddr]` (repeat; instead of zoo.cfg)")
	file, err := fileAndFlags(fs, args)
	if err != nil {
		fmt.Fprintf(stderr, "herd snapshot restore: %v\n\n%s", err, snapshotUsage)
		return 2
	}
	id, members, dir := *myid, []cluster.Member(servers), *dataDir
	if *configFile != "" {
		zc, err := zoocfg.Load(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "herd snapshot restore: %v\n", err)
			return 2
		}
		if dir == "" {
			dir = zc.DataDir
		}
		if id == 0 {
			id = zc.MyID
		}
		if len(members) == 0 && zc.Distributed() {
			members = zooCfgMembers(zc)
		}
	}
	if dir == "" {
		fmt.Fprintf(stderr, "herd snapshot restore: --data-dir (or --config with a dataDir) is required\n\n%s", snapshotUsage)
		return 2
	}
	if len(members) > 0 {
		if _, ok := memberByID(members, id); !ok {
			fmt.Fprintf(stderr, "herd snapshot restore: myid %d is not among the cluster's members (set --myid or dataDir/myid)\n", id)
			return 2
		}
	}
	zxid, size, err := restoreBackup(file, dir, id, members)
	if err != nil {
		fmt.Fprintf(stderr, "herd snapshot restore: %v\n", err)
		return 1
	}
	role := "a standalone node"
	if len(members) > 0 {
		role = fmt.Sprintf("server.%d of %d", id, len(members))
	}
	fmt.Fprintf(stdout, "restored %s into %s for %s: state at zxid 0x%x (%d bytes); start the node on it\n", file, dir, role, zxid, size)
	return 0
}

// restoreBackup checks the whole file first, then seeds dir with it, so a
// damaged file leaves dir untouched.
func restoreBackup(file, dir string, id int, members []cluster.Member) (zxid, size int64, err error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, err
	}
	zxid, size, err = checkBackup(f)
	f.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", file, err)
	}
	if f, err = os.Open(file); err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	err = withSnapshot(f, func(state io.Reader) error {
		return cluster.Seed(dir, id, members, uint64(zxid), state)
	}, nil)
	return zxid, size, err
}
