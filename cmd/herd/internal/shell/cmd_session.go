package shell

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// Version is what the version command reports.
var Version = "herd shell (ZooKeeper 3.8 protocol)"

func cmdAddWatch(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	mode, name := proto.AddWatchPersistentRecursive, "PERSISTENT_RECURSIVE"
	if m, ok := in.flags['m']; ok {
		switch strings.ToUpper(m) {
		case "PERSISTENT":
			mode, name = proto.AddWatchPersistent, "PERSISTENT"
		case "PERSISTENT_RECURSIVE":
		default:
			return nil, &cliError{msg: "Unsupported mode: " + m, err: errUsage}
		}
	}
	path := in.args[0]
	if err := s.currentClient().AddWatch(ctx, path, mode); err != nil {
		return nil, describe(err, path)
	}
	return &result{value: map[string]any{"path": path, "mode": name}}, nil
}

func cmdRemoveWatches(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	typ, name := proto.WatcherAny, "Any"
	switch {
	case in.has('c'):
		typ, name = proto.WatcherChildren, "Children"
	case in.has('d'):
		typ, name = proto.WatcherData, "Data"
	}
	path := in.args[0]
	if err := s.currentClient().RemoveWatches(ctx, path, typ, in.has('l')); err != nil {
		return nil, describe(err, path)
	}
	return &result{value: map[string]any{"path": path, "type": name, "local": in.has('l')}}, nil
}

func cmdPrintWatches(_ context.Context, s *Shell, in *invocation) (*result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(in.args) == 0 {
		state := map[bool]string{true: "on", false: "off"}[s.printWatches]
		return &result{stdout: "printwatches is " + state + "\n", value: map[string]any{"printwatches": state}}, nil
	}
	s.printWatches = in.args[0] == "on"
	return &result{value: map[string]any{"printwatches": map[bool]string{true: "on", false: "off"}[s.printWatches]}}, nil
}

// cmdReconfig parses zkCli's long options (-add, -remove, -members, -file, -v, -s).
func cmdReconfig(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	var joining, leaving, members string
	var withStat bool
	from := int64(-1)
	args := in.args
	for i := 0; i < len(args); i++ {
		opt := args[i]
		if opt == "-s" {
			withStat = true
			continue
		}
		if i+1 >= len(args) {
			return nil, usageError(commands["reconfig"])
		}
		i++
		switch opt {
		case "-add":
			joining = args[i]
		case "-remove":
			leaving = args[i]
		case "-members":
			members = args[i]
		case "-v":
			v, err := strconv.ParseInt(args[i], 16, 64)
			if err != nil {
				return nil, &cliError{msg: "-v must be followed by a long (configuration version)", err: errUsage}
			}
			from = v
		default:
			return nil, usageError(commands["reconfig"])
		}
	}
	if joining == "" && leaving == "" && members == "" {
		return nil, &cliError{msg: "Arguments must be specified", err: errUsage}
	}
	data, st, err := s.currentClient().Reconfig(ctx, joining, leaving, members, from)
	if err != nil {
		return nil, describe(err, "")
	}
	var b strings.Builder
	b.WriteString("Committed new configuration:\n" + string(data) + "\n")
	v := map[string]any{"config": string(data)}
	if withStat {
		addStat(&b, v, st)
	}
	return &result{stdout: b.String(), value: v}, nil
}

func cmdConnect(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	s.mu.Lock()
	host := s.host
	s.mu.Unlock()
	if len(in.args) > 0 {
		host = in.args[0]
	}
	if err := s.Connect(ctx, host); err != nil {
		return nil, err
	}
	return &result{value: map[string]any{"server": host, "state": s.currentClient().State()}}, nil
}

func cmdClose(ctx context.Context, s *Shell, _ *invocation) (*result, error) {
	s.closeClient(ctx)
	return &result{value: map[string]any{"state": stateClosed}}, nil
}

// cmdHistory prints the last ten commands and this one, numbered from 0.
func cmdHistory(_ context.Context, s *Shell, _ *invocation) (*result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	var list []map[string]any
	for i := max(0, s.count-10); i <= s.count; i++ {
		fmt.Fprintf(&b, "%d - %s\n", i, s.history[i])
		list = append(list, map[string]any{"n": i, "command": s.history[i]})
	}
	return &result{stdout: b.String(), value: map[string]any{"history": list}}, nil
}

func cmdRedo(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	n, err := strconv.ParseInt(in.args[0], 0, 32)
	s.mu.Lock()
	line, count := s.history[int(n)], s.count
	s.mu.Unlock()
	if err != nil || int(n) >= count || n < 0 {
		return nil, &cliError{msg: "Command index out of range", err: errUsage}
	}
	words := splitLine(line)
	if len(words) > 0 && words[0] == "redo" {
		return nil, &cliError{msg: "No redoing redos", err: errUsage}
	}
	s.mu.Lock()
	s.history[count] = line
	s.mu.Unlock()
	return s.dispatch(ctx, words)
}

func cmdVersion(context.Context, *Shell, *invocation) (*result, error) {
	return &result{stdout: "ZooKeeper CLI version: " + Version + "\n", value: map[string]any{"version": Version}}, nil
}

func cmdQuit(ctx context.Context, s *Shell, _ *invocation) (*result, error) {
	s.closeClient(ctx)
	return &result{value: map[string]any{"state": stateClosed}}, errQuit
}
