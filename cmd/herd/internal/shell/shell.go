package shell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// result is a command's output: the text zkCli prints (some of it, such as
// create's "Created /A", on stderr as zkCli does) and the value for -o json.
type result struct {
	stdout, stderr string
	value          any
}

// Shell runs zkCli-style commands against one session at a time.
type Shell struct {
	dial     DialFunc
	dialOpts DialOptions
	jsonOut  bool
	// printConnEvents shows state changes (type None), which scripts do not want.
	printConnEvents bool

	mu     sync.Mutex // serialises output from commands and from watch events
	out    io.Writer
	errw   io.Writer
	client Client
	host   string

	history      map[int]string
	count        int
	printWatches bool
}

// newShell returns a shell that writes to out and errw; it is not connected yet.
func newShell(dial DialFunc, opts DialOptions, jsonOut bool, out, errw io.Writer) *Shell {
	return &Shell{dial: dial, dialOpts: opts, jsonOut: jsonOut, out: out, errw: errw,
		history: map[int]string{}, printWatches: true}
}

// Connect closes any current session and opens one to servers.
func (s *Shell) Connect(ctx context.Context, servers string) error {
	if _, err := splitChroot(servers); err != nil {
		return err
	}
	s.closeClient(ctx)
	s.mu.Lock()
	s.host = servers
	s.mu.Unlock()
	c, err := s.dial(ctx, servers, s.dialOpts, s.onEvent)
	if err != nil {
		return &cliError{msg: fmt.Sprintf("Unable to connect to %s: %s", servers, connectReason(err)),
			err: fmt.Errorf("%w: %w", errConnect, err)}
	}
	s.mu.Lock()
	s.client = c
	s.mu.Unlock()
	return nil
}

func (s *Shell) closeClient(ctx context.Context) {
	s.mu.Lock()
	c := s.client
	s.client = nil
	s.mu.Unlock()
	if c != nil {
		_ = c.Close(ctx)
	}
}

// Close ends the session, if any.
func (s *Shell) Close(ctx context.Context) { s.closeClient(ctx) }

// Prompt is zkCli's prompt: [zk: host(STATE) N] .
func (s *Shell) Prompt() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := "CLOSED"
	if s.client != nil {
		state = s.client.State()
	}
	return fmt.Sprintf("[zk: %s(%s) %d] ", s.host, state, s.count)
}

func (s *Shell) onEvent(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.printWatches || (e.Path == "" && !s.printConnEvents) {
		return
	}
	if s.jsonOut {
		s.writeJSON(s.out, map[string]any{"event": map[string]string{
			"state": e.State.String(), "type": eventTypeName(e.Type), "path": e.Path}})
		return
	}
	fmt.Fprintf(s.out, "\nWATCHER::\n\n%s\n", watchedEvent(e))
}

// Execute runs one line, records it in the history and prints its output.
// The returned error has already been printed; quit returns errQuit.
func (s *Shell) Execute(ctx context.Context, line string) error {
	if strings.TrimSpace(line) == "" {
		return nil
	}
	s.mu.Lock()
	s.history[s.count] = line
	s.mu.Unlock()
	err := s.run(ctx, splitLine(line))
	s.mu.Lock()
	s.count++
	s.mu.Unlock()
	return err
}

// run executes one parsed command and prints its result or error.
func (s *Shell) run(ctx context.Context, words []string) error {
	res, err := s.dispatch(ctx, words)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && !errors.Is(err, errQuit) {
		s.printError(err)
		return err
	}
	if res == nil {
		return err
	}
	if s.jsonOut {
		// Every command prints one JSON value, so a script reads one line per
		// command it sent.
		v := res.value
		if v == nil {
			v = map[string]any{}
		}
		s.writeJSON(s.out, v)
	} else {
		io.WriteString(s.out, res.stdout)
		io.WriteString(s.errw, res.stderr)
	}
	return err
}

func (s *Shell) printError(err error) {
	if s.jsonOut {
		s.writeJSON(s.errw, toErrorJSON(err))
		return
	}
	fmt.Fprintln(s.errw, err.Error())
}

// writeJSON prints v as one line. HTML escaping is off: the output is read
// by scripts and people, and "Path length must be > 0" should read as such.
func (s *Shell) writeJSON(w io.Writer, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(s.errw, "{\"error\":%q,\"code\":\"ERROR\"}\n", err.Error())
		return
	}
	w.Write(b.Bytes())
}

func (s *Shell) dispatch(ctx context.Context, words []string) (*result, error) {
	if len(words) == 0 {
		return nil, &cliError{msg: "No command entered", err: errUsage}
	}
	c, ok := commands[words[0]]
	if !ok {
		s.usage()
		return nil, &cliError{msg: "Command not found: Command not found " + words[0], err: errUnknownCommand}
	}
	in, err := &invocation{args: words[1:]}, error(nil)
	if !c.raw {
		in, err = parseFlags(words[1:], c.bools, c.values)
	}
	if err != nil {
		return nil, &cliError{msg: strings.TrimPrefix(err.Error(), errUsage.Error()+": "), err: err}
	}
	if len(in.args) < c.minArgs {
		return nil, usageError(c)
	}
	if c.needsConn && s.currentClient() == nil {
		return nil, describe(ErrNotConnected, "")
	}
	// The Java client checks a path before it sends anything.
	if c.pathArg && len(in.args) > 0 {
		if err := validatePath(in.args[0], c.name == "create" && in.has('s')); err != nil {
			return nil, err
		}
	}
	return c.run(ctx, s, in)
}

func (s *Shell) currentClient() Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}

// usage prints zkCli's command summary to errw (not with -o json, whose
// stderr carries only the error object).
func (s *Shell) usage() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jsonOut {
		return
	}
	fmt.Fprintln(s.errw, "ZooKeeper -server host:port -client-configuration properties-file cmd args")
	for _, name := range commandNames() {
		c := commands[name]
		fmt.Fprintf(s.errw, "\t%s %s\n", c.name, c.usage)
	}
}

// commandNames lists the commands in sorted order (usage, completion).
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
