package zoocfg

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Load reads the zoo.cfg at path, and the server.N lines of its
// dynamicConfigFile if it names one. When the file lists an ensemble it also
// reads this server's id from dataDir/myid, which must name one of them.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zoocfg: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.DynamicConfigFile != "" {
		dyn := c.DynamicConfigFile
		if !filepath.IsAbs(dyn) {
			dyn = filepath.Join(filepath.Dir(path), dyn)
		}
		if err := c.readDynamic(dyn); err != nil {
			return nil, err
		}
	}
	if !c.Distributed() {
		for id := range c.Servers {
			c.MyID = id // the single server.N line of a standalone server
		}
		return c, nil
	}
	id, err := ReadMyID(c.DataDir)
	if err != nil {
		return nil, fmt.Errorf("zoocfg: the server.N lines need this server's id in dataDir/myid: %w", err)
	}
	if _, ok := c.Servers[id]; !ok {
		return nil, fmt.Errorf("zoocfg: %w: myid %d (in %s) is not among the server.N lines", ErrInvalid, id,
			filepath.Join(c.DataDir, "myid"))
	}
	c.MyID = id
	return c, nil
}

// readDynamic adds the server.N lines of a dynamic configuration file
// (ZooKeeper writes its ensemble there once reconfig is enabled).
func (c *Config) readDynamic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("zoocfg: dynamicConfigFile: %w", err)
	}
	defer f.Close()
	entries, err := readProperties(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.key, "server."):
			if err := c.setServer(e.key, e.value); err != nil {
				return fmt.Errorf("zoocfg: %s: line %d: %s: %w", path, e.line, e.key, err)
			}
		case e.key == "version":
		default:
			return fmt.Errorf("zoocfg: %s: line %d: %w: %s does not belong in a dynamic configuration file", path, e.line, ErrInvalid, e.key)
		}
	}
	if err := c.checkServers(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ReadMyID reads the server id from the first line of dataDir/myid.
func ReadMyID(dataDir string) (int, error) {
	path := filepath.Join(dataDir, "myid")
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("zoocfg: myid file is missing: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := ""
	if sc.Scan() {
		line = strings.TrimSpace(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("zoocfg: read %s: %w", path, err)
	}
	id, err := strconv.Atoi(line)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("zoocfg: %w: %s: server id %q is not a number", ErrInvalid, path, line)
	}
	return id, nil
}
