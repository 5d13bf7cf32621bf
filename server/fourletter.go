package server

import (
	"bufio"
	"time"
)

// fourLetter answers a four-letter word and lets serve close the connection.
func (c *conn) fourLetter(cmd string, br *bufio.Reader) {
	_ = br
	out := "imok"
	if cmd != "ruok" {
		out = cmd + " is not executed because it is not in the whitelist.\n"
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.nc.Write([]byte(out))
}
