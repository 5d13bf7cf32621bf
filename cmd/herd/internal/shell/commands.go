package shell

import (
	"context"
	"strconv"
)

// command is one shell command: its usage line (zkCli's option string), the
// short options it accepts and what it does.
type command struct {
	name      string
	usage     string
	bools     string // flags without a value
	values    string // flags that take a value
	minArgs   int
	needsConn bool
	raw       bool // parse its own (long) options, as reconfig does
	pathArg   bool // its first argument is a znode path, checked before sending
	run       func(ctx context.Context, s *Shell, in *invocation) (*result, error)
}

// commands is the command table, filled in init to break the reference cycle
// between the table and commands (help, redo) that read it.
var commands map[string]*command

func init() {
	commands = map[string]*command{}
	for _, c := range []*command{
		{name: "ls", pathArg: true, usage: "[-s] [-w] [-R] path", bools: "swR?", minArgs: 1, needsConn: true, run: cmdLs},
		{name: "get", pathArg: true, usage: "[-s] [-w] path", bools: "sw?b", minArgs: 1, needsConn: true, run: cmdGet},
		{name: "stat", pathArg: true, usage: "[-w] path", bools: "w", minArgs: 1, needsConn: true, run: cmdStat},
		{name: "create", pathArg: true, usage: "[-s] [-e] [-c] [-t ttl] path [data] [acl]", bools: "sec", values: "t", minArgs: 1, needsConn: true, run: cmdCreate},
		{name: "set", pathArg: true, usage: "[-s] [-v version] path data", bools: "s", values: "v", minArgs: 2, needsConn: true, run: cmdSet},
		{name: "delete", pathArg: true, usage: "[-v version] path", values: "v", minArgs: 1, needsConn: true, run: cmdDelete},
		{name: "deleteall", pathArg: true, usage: "path [-b batch size]", values: "b", minArgs: 1, needsConn: true, run: cmdDeleteAll},
		{name: "sync", pathArg: true, usage: "path", minArgs: 1, needsConn: true, run: cmdSync},
		{name: "getAcl", pathArg: true, usage: "[-s] path", bools: "s", minArgs: 1, needsConn: true, run: cmdGetACL},
		{name: "setAcl", pathArg: true, usage: "[-s] [-v version] [-R] path acl", bools: "sR", values: "v", minArgs: 2, needsConn: true, run: cmdSetACL},
		{name: "addauth", usage: "scheme auth", minArgs: 1, needsConn: true, run: cmdAddAuth},
		{name: "whoami", usage: "", needsConn: true, run: cmdWhoAmI},
		{name: "getEphemerals", pathArg: true, usage: "path", needsConn: true, run: cmdGetEphemerals},
		{name: "getAllChildrenNumber", pathArg: true, usage: "path", minArgs: 1, needsConn: true, run: cmdGetAllChildrenNumber},
		{name: "addWatch", pathArg: true, usage: "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE", values: "m", minArgs: 1, needsConn: true, run: cmdAddWatch},
		{name: "removewatches", pathArg: true, usage: "path [-c|-d|-a] [-l]", bools: "cdal", minArgs: 1, needsConn: true, run: cmdRemoveWatches},
		{name: "printwatches", usage: "on|off", run: cmdPrintWatches},
		{name: "config", usage: "[-c] [-w] [-s]", bools: "cws", needsConn: true, run: cmdConfig},
		{name: "reconfig", raw: true, usage: "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]", needsConn: true, run: cmdReconfig},
		{name: "connect", usage: "host:port", run: cmdConnect},
		{name: "close", usage: "", run: cmdClose},
		{name: "history", usage: "", run: cmdHistory},
		{name: "redo", usage: "cmdno", minArgs: 1, run: cmdRedo},
		{name: "version", usage: "", run: cmdVersion},
		{name: "quit", usage: "", run: cmdQuit},
		{name: "setquota", raw: true, usage: "-n|-b|-N|-B val path", needsConn: true, run: cmdSetQuota},
		{name: "listquota", usage: "path", minArgs: 1, needsConn: true, run: cmdListQuota},
		{name: "delquota", raw: true, usage: "[-n|-b|-N|-B] path", needsConn: true, run: cmdDelQuota},
		{name: "tree", pathArg: true, usage: "path", minArgs: 1, needsConn: true, run: cmdTree},
	} {
		commands[c.name] = c
	}
}

// version flag value: zkCli's -v; -1 matches any version.
func versionFlag(in *invocation) (int32, error) {
	v, ok := in.flags['v']
	if !ok {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, &cliError{msg: "version " + v + " is not a valid integer", err: errUsage}
	}
	return int32(n), nil
}
