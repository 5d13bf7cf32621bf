// Package fourlw renders ZooKeeper's four-letter-word commands (ruok, srvr,
// stat, mntr, cons, ...) in the exact text formats of ZooKeeper 3.8, so that
// monitoring scripts and client libraries that parse them keep working.
//
// The server reads the first four bytes of a new connection, asks Lookup
// whether they name a command, calls Run with its whitelist and a Source of
// live data, writes the returned text and closes the connection.
package fourlw

// NotServing is ZooKeeper's answer while the server cannot serve requests.
const NotServing = "This ZooKeeper instance is not currently serving requests\n"

// Run executes the four-letter word cmd and returns the full text to write
// before closing the connection. Unknown words return "".
func Run(cmd string, whitelist Whitelist, src Source) string {
	if !Known(cmd) {
		return ""
	}
	if !whitelist.Allows(cmd) {
		return cmd + " is not executed because it is not in the whitelist.\n"
	}
	switch cmd {
	case "ruok":
		if h, ok := src.(HealthReporter); ok && h.Health() != nil {
			return ""
		}
		return "imok"
	case "gtmk":
		return "306" // ZooTrace's default text trace mask; herd has no trace levels
	case "envi":
		return env(src.Env())
	case "isro":
		return isro(src)
	case "stmk", "hash":
		// stmk changes a trace mask herd lacks; hash lists digests, which
		// ZooKeeper disables by default and then prints nothing.
		return ""
	}
	st := src.Server()
	if !st.Serving {
		return NotServing
	}
	switch cmd {
	case "srvr":
		return srvr(st, src, false)
	case "stat":
		return srvr(st, src, true)
	case "mntr":
		return mntr(st)
	case "cons":
		return cons(src.Conns())
	case "conf":
		return lines(src.Conf())
	case "dirs":
		return dirs(st)
	case "dump":
		return dump(src.Sessions(), src.Conns())
	case "wchs":
		return wchs(src.Watches())
	case "wchc":
		return wchc(src.WatchList())
	case "wchp":
		return wchp(src.WatchList())
	case "crst", "srst":
		return reset(cmd, src)
	}
	return ""
}

func isro(src Source) string {
	switch {
	case !src.Server().Serving:
		return "null"
	case src.ReadOnly():
		return "ro"
	}
	return "rw"
}

func reset(cmd string, src Source) string {
	r, ok := src.(Resetter)
	if !ok {
		return ""
	}
	if cmd == "crst" {
		r.ResetConnStats()
		return "Connection stats reset.\n"
	}
	r.ResetServerStats()
	return "Server stats reset.\n"
}
