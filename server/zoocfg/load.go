package zoocfg

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Load reads the zoo.cfg at path. When the file lists servers it also reads
// this server's id from dataDir/myid, which must name one of them.
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
	if !c.Distributed() {
		return c, nil
	}
	id, err := ReadMyID(c.DataDir)
	if err != nil {
		return nil, err
	}
	if _, ok := c.Servers[id]; !ok {
		return nil, fmt.Errorf("zoocfg: %w: myid %d is not among the server.N lines", ErrInvalid, id)
	}
	c.MyID = id
	return c, nil
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
