package zoocfg

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Parse reads a zoo.cfg from r and applies ZooKeeper's defaults and checks.
// It does not read myid; Load does.
func Parse(r io.Reader) (*Config, error) {
	entries, err := readProperties(r)
	if err != nil {
		return nil, err
	}
	c := Default()
	for _, e := range entries {
		if err := c.set(e.key, e.value, e.line); err != nil {
			return nil, fmt.Errorf("zoocfg: line %d: %s: %w", e.line, e.key, err)
		}
	}
	if err := c.finish(); err != nil {
		return nil, err
	}
	return c, nil
}

// sysprops are keys ZooKeeper reads as system properties; zoo.cfg reaches them
// with or without the "zookeeper." prefix it adds to unknown keys.
var sysprops = map[string]bool{
	"4lw.commands.whitelist":                   true,
	"DigestAuthenticationProvider.superDigest": true,
	"extendedTypesEnabled":                     true,
	"enforceQuota":                             true,
	"jute.maxbuffer":                           true,
	"globalOutstandingLimit":                   true,
	"preAllocSize":                             true,
}

// set applies one line of the file.
func (c *Config) set(key, value string, line int) error {
	if k, ok := strings.CutPrefix(key, "zookeeper."); ok && (sysprops[k] || strings.HasPrefix(k, "ssl.") || k == "client.portUnification") {
		key = k
	}
	if strings.HasPrefix(key, "server.") {
		return c.setServer(key, value)
	}
	k, ok := lookupKey(key)
	switch {
	case ok && k.set != nil:
		return k.set(c, value)
	case ok:
		c.Ignored = append(c.Ignored, Ignored{Key: key, Value: value, Line: line, Known: true})
	default:
		c.Ignored = append(c.Ignored, Ignored{Key: key, Value: value, Line: line, Suggestion: suggest(key)})
	}
	c.Extra[key] = value
	return nil
}

// finish applies defaults that depend on other keys and ZooKeeper's checks.
func (c *Config) finish() error {
	if c.DataDir == "" {
		return fmt.Errorf("zoocfg: %w: dataDir is not set", ErrInvalid)
	}
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	if c.TickTime <= 0 {
		return fmt.Errorf("zoocfg: %w: tickTime must be positive", ErrInvalid)
	}
	if c.ClientPort == 0 && c.ClientPortAddress != "" {
		return fmt.Errorf("zoocfg: %w: clientPortAddress is set but clientPort is not set", ErrInvalid)
	}
	if c.SecurePort == 0 && c.SecurePortAddress != "" {
		return fmt.Errorf("zoocfg: %w: secureClientPortAddress is set but secureClientPort is not set", ErrInvalid)
	}
	if c.PortUnification && c.TLS.KeyStore == "" {
		return fmt.Errorf("zoocfg: %w: client.portUnification is set but ssl.keyStore.location is not set", ErrInvalid)
	}
	if c.SecurePort != 0 && c.TLS.KeyStore == "" {
		return fmt.Errorf("zoocfg: %w: secureClientPort is set but ssl.keyStore.location is not set", ErrInvalid)
	}
	if c.MinSessionTimeout < 0 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout < 0 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		return fmt.Errorf("zoocfg: %w: minSessionTimeout must not be larger than maxSessionTimeout", ErrInvalid)
	}
	if c.Distributed() {
		if c.InitLimit == 0 {
			return fmt.Errorf("zoocfg: %w: initLimit is not set", ErrInvalid)
		}
		if c.SyncLimit == 0 {
			return fmt.Errorf("zoocfg: %w: syncLimit is not set", ErrInvalid)
		}
		if err := c.checkServers(); err != nil {
			return err
		}
	}
	return nil
}

func integer(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32) // Java's Integer.parseInt range
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not an integer", ErrInvalid, v)
	}
	return int(n), nil
}

func nonNegative(v string) (int, error) {
	n, err := integer(v)
	if err == nil && n < 0 {
		err = fmt.Errorf("%w: %d is negative", ErrInvalid, n)
	}
	return n, err
}

func positive(v string) (int, error) {
	n, err := integer(v)
	if err == nil && n <= 0 {
		err = fmt.Errorf("%w: %d is not positive", ErrInvalid, n)
	}
	return n, err
}

// millis parses a millisecond count; -1 is kept to mean "the default".
func millis(v string) (time.Duration, error) {
	n, err := integer(v)
	if err != nil {
		return 0, err
	}
	if n < -1 {
		return 0, fmt.Errorf("%w: %d is negative", ErrInvalid, n)
	}
	if n == -1 {
		return -1, nil
	}
	return time.Duration(n) * time.Millisecond, nil
}

func port(v string, zeroOK bool) (int, error) {
	n, err := integer(v)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 65535 || (n == 0 && !zeroOK) {
		return 0, fmt.Errorf("%w: port %d out of range", ErrInvalid, n)
	}
	return n, nil
}

func boolean(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q is not true or false", ErrInvalid, v)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
