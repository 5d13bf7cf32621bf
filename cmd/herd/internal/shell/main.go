// Package shell is `herd shell`: a zkCli-compatible command line for herd and
// Apache ZooKeeper, interactive (prompt, line editing, history, completion) or
// scripted (-c, trailing arguments, or commands on stdin).
package shell

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chzyer/readline"
	"github.com/herd-io/herd/server/tlsconf"
)

// Exit statuses of Main.
const (
	exitOK      = 0
	exitFailed  = 1 // a command failed, or the server could not be reached
	exitBadArgs = 2
)

// config is everything Main decides before running; tests build it directly.
type config struct {
	servers  string
	dialOpts DialOptions
	command  string // one command to run (-c or trailing arguments)
	jsonOut  bool
	dial     DialFunc
	// terminal selects the interactive mode.
	terminal bool
	// rlConfig adjusts readline for tests (pipes instead of a tty).
	rlConfig func(*readline.Config)
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
}

// Main runs `herd shell` with args (the flags after "shell") and returns the
// exit status: 0 on success, 1 when a command failed, 2 for bad arguments.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitBadArgs
	}
	cfg.dial, cfg.stdin, cfg.stdout, cfg.stderr = DialWire, stdin, stdout, stderr
	if f, ok := stdin.(*os.File); ok && cfg.command == "" && isTerminal(f) {
		cfg.terminal = true
	}
	return run(ctx, cfg)
}

func parseArgs(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("herd shell", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	fs.StringVar(&cfg.servers, "server", "127.0.0.1:2181", "comma-separated `host:port` list, optionally with a chroot (host:port/app)")
	fs.IntVar(&cfg.dialOpts.SessionTimeoutMs, "timeout", 30000, "session timeout in `ms`")
	fs.BoolVar(&cfg.dialOpts.ReadOnly, "r", false, "allow a read-only server")
	fs.DurationVar(&cfg.dialOpts.ConnectTimeout, "connect-timeout", defaultConnectTimeout, "how long to retry the first connection")
	fs.StringVar(&cfg.command, "c", "", "run one `command` and exit")
	out := fs.String("o", "text", "output `format`: text (as zkCli) or json")
	var tlsOpts tlsconf.ClientOptions
	fs.StringVar(&tlsOpts.CA, "tls-ca", "", "speak TLS, trusting the CA certificates in this PEM `file` (a secureClientPort)")
	fs.StringVar(&tlsOpts.Cert, "tls-cert", "", "speak TLS, presenting the client certificate in this PEM `file` (with its key, unless -tls-key)")
	fs.StringVar(&tlsOpts.Key, "tls-key", "", "the PEM `file` of -tls-cert's private key")
	fs.StringVar(&tlsOpts.ServerName, "tls-server-name", "", "the `name` the servers' certificates must carry (default: the host dialled)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: herd shell [-server host:port,...] [-timeout ms] [-connect-timeout d] [-r] [-o text|json]\n"+
			"                  [-tls-ca file] [-tls-cert file [-tls-key file]] [-c command | command args...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch *out {
	case "text":
	case "json":
		cfg.jsonOut = true
	default:
		fmt.Fprintf(stderr, "unknown output format %q (want text or json)\n", *out)
		return nil, errUsage
	}
	if tlsOpts != (tlsconf.ClientOptions{}) {
		c, err := tlsconf.ClientConfig(tlsOpts)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return nil, errUsage
		}
		cfg.dialOpts.TLS = c
	}
	if rest := fs.Args(); len(rest) > 0 {
		if cfg.command != "" {
			fmt.Fprintln(stderr, "give the command either with -c or as arguments, not both")
			return nil, errUsage
		}
		cfg.command = quoteArgs(rest)
	}
	return cfg, nil
}

// quoteArgs rebuilds a command line from shell arguments, quoting words with
// spaces so splitLine gives them back intact.
func quoteArgs(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		switch {
		case a == "" || strings.ContainsAny(a, " \t") && !strings.Contains(a, "'"):
			words[i] = "'" + a + "'"
		case strings.ContainsAny(a, " \t"):
			words[i] = `"` + a + `"`
		default:
			words[i] = a
		}
	}
	return strings.Join(words, " ")
}

func run(ctx context.Context, cfg *config) int {
	sh := newShell(cfg.dial, cfg.dialOpts, cfg.jsonOut, cfg.stdout, cfg.stderr)
	sh.printConnEvents = cfg.terminal
	defer sh.Close(context.WithoutCancel(ctx))
	if cfg.terminal {
		fmt.Fprintf(cfg.stdout, "Connecting to %s\nWelcome to herd shell!\n", cfg.servers)
	}
	if err := sh.Connect(ctx, cfg.servers); err != nil {
		sh.printError(err)
		if errors.Is(err, errBadChroot) {
			return exitBadArgs
		}
		if !cfg.terminal {
			return exitFailed
		}
	}
	switch {
	case cfg.command != "":
		if err := sh.Execute(ctx, cfg.command); err != nil && !errors.Is(err, errQuit) {
			return exitFailed
		}
		return exitOK
	case cfg.terminal:
		return interactive(ctx, sh, cfg)
	default:
		return script(ctx, sh, cfg.stdin)
	}
}
