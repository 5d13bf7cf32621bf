package shell

import (
	"fmt"
	"regexp"
	"strings"
)

// argPattern splits a line the way ZooKeeperMain does: bare words, or whole
// single- or double-quoted strings (quotes stripped, no escapes).
var argPattern = regexp.MustCompile(`\s*([^"'\s]\S*|"[^"]*"|'[^']*')\s*`)

// splitLine breaks a command line into words.
func splitLine(line string) []string {
	var words []string
	for _, m := range argPattern.FindAllStringSubmatch(line, -1) {
		w := m[1]
		if len(w) >= 2 && (w[0] == '"' || w[0] == '\'') && w[len(w)-1] == w[0] {
			w = w[1 : len(w)-1]
		}
		words = append(words, w)
	}
	return words
}

// invocation is a parsed command: its flags and positional arguments
// (args[0] is the first argument after the command name).
type invocation struct {
	flags map[byte]string
	args  []string
}

func (in *invocation) has(f byte) bool { _, ok := in.flags[f]; return ok }

// parseFlags parses POSIX-style short options anywhere on the line, as
// commons-cli does for zkCli: bools may be bundled (-sw), value options take
// the rest of the word or the next word (-v 3, -v3).
func parseFlags(words []string, bools, values string) (*invocation, error) {
	in := &invocation{flags: map[byte]string{}}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if len(w) < 2 || w[0] != '-' || w == "--" {
			in.args = append(in.args, w)
			continue
		}
		for j := 1; j < len(w); j++ {
			c := w[j]
			switch {
			case strings.IndexByte(bools, c) >= 0:
				in.flags[c] = ""
			case strings.IndexByte(values, c) >= 0:
				v := w[j+1:]
				if v == "" {
					if i+1 >= len(words) {
						return nil, fmt.Errorf("%w: Missing argument for option: %c", errUsage, c)
					}
					i++
					v = words[i]
				}
				in.flags[c] = v
				j = len(w)
			default:
				return nil, fmt.Errorf("%w: Unrecognized option: %s", errUsage, w)
			}
		}
	}
	return in, nil
}
