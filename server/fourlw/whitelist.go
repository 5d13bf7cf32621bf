package fourlw

import "strings"

// commands are the words ZooKeeper 3.8 recognises on a new connection.
var commands = map[string]bool{
	"conf": true, "cons": true, "crst": true, "dirs": true, "dump": true, "envi": true,
	"gtmk": true, "hash": true, "isro": true, "mntr": true, "ruok": true, "srst": true,
	"srvr": true, "stat": true, "stmk": true, "wchc": true, "wchp": true, "wchs": true,
}

// Known reports whether cmd is one of ZooKeeper's four-letter words.
func Known(cmd string) bool { return commands[cmd] }

// Lookup reports whether the first four bytes of a connection are a
// four-letter word rather than the length prefix of a ConnectRequest. For
// "stmk" ZooKeeper reads 8 more bytes (the new mask) before answering.
func Lookup(first4 []byte) (string, bool) {
	if len(first4) != 4 {
		return "", false
	}
	cmd := string(first4)
	return cmd, Known(cmd)
}

// Whitelist is the set of enabled four-letter words. Its zero value allows
// only srvr, ZooKeeper's default.
type Whitelist struct {
	all bool
	set map[string]bool
}

// ParseWhitelist builds a whitelist from 4lw.commands.whitelist entries. Each
// entry may itself be a comma-separated list; "*" enables every command. As in
// ZooKeeper, srvr is always enabled (zkServer.sh depends on it); isro is added
// only in read-only mode, with With("isro").
func ParseWhitelist(list []string) Whitelist {
	w := Whitelist{set: map[string]bool{}}
	for _, item := range list {
		for _, c := range strings.Split(item, ",") {
			switch c = strings.TrimSpace(c); c {
			case "":
			case "*":
				w.all = true
			default:
				w.set[c] = true
			}
		}
	}
	return w
}

// With returns a copy of w that also allows cmds.
func (w Whitelist) With(cmds ...string) Whitelist {
	out := Whitelist{all: w.all, set: make(map[string]bool, len(w.set)+len(cmds))}
	for c := range w.set {
		out.set[c] = true
	}
	for _, c := range cmds {
		out.set[c] = true
	}
	return out
}

// Allows reports whether cmd may run.
func (w Whitelist) Allows(cmd string) bool {
	if !Known(cmd) {
		return false
	}
	return cmd == "srvr" || w.all || w.set[cmd]
}
