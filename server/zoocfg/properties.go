package zoocfg

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// entry is one key/value pair of a properties file and the line it starts on.
type entry struct {
	key, value string
	line       int
}

// readProperties splits r into entries following java.util.Properties.load:
// '#' and '!' comment lines, '\' line continuations, '=', ':' or whitespace
// between key and value, and backslash escapes. Unlike Java it rejects a key
// with no separator and no value, which in a zoo.cfg is always a typo.
func readProperties(r io.Reader) ([]entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var out []entry
	lineNo := 0
	for sc.Scan() {
		lineNo++
		start := lineNo
		logical := strings.TrimLeft(sc.Text(), " \t\f")
		if logical == "" || logical[0] == '#' || logical[0] == '!' {
			continue
		}
		// An odd number of trailing backslashes continues the line.
		for continues(logical) && sc.Scan() {
			lineNo++
			logical = logical[:len(logical)-1] + strings.TrimLeft(sc.Text(), " \t\f")
		}
		if continues(logical) {
			logical = logical[:len(logical)-1]
		}
		key, value, sep := splitKeyValue(logical)
		k, err := unescape(key)
		if err != nil {
			return nil, fmt.Errorf("zoocfg: line %d: %w: %v", start, ErrInvalid, err)
		}
		v, err := unescape(value)
		if err != nil {
			return nil, fmt.Errorf("zoocfg: line %d: %w: %v", start, ErrInvalid, err)
		}
		if !sep {
			return nil, fmt.Errorf("zoocfg: line %d: %w: %q has no '=' and no value", start, ErrInvalid, k)
		}
		out = append(out, entry{key: strings.TrimSpace(k), value: strings.TrimSpace(v), line: start})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("zoocfg: line %d: %w", lineNo+1, err)
	}
	return out, nil
}

func continues(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKeyValue finds the first unescaped '=', ':' or whitespace. sep is false
// when the line is a bare key.
func splitKeyValue(s string) (key, value string, sep bool) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		i++
	}
	if i >= len(s) {
		return s, "", false
	}
	key = s[:i]
	rest := strings.TrimLeft(s[i:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest, true
}

// unescape resolves Java properties escapes: \t \n \r \f \uXXXX, and \x -> x.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf("malformed \\u escape in %q", s)
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf("malformed \\u escape in %q", s)
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
