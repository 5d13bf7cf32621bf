package server

import (
	"io"
	"net"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/server/backup"
	"github.com/herd-io/herd/server/fourlw"
)

// BackupWord is the four-letter request for a backup: a client that opens a
// connection and sends "snap" receives a consistent snapshot of the whole
// state (backup.Magic, the framed snapshot, a checksum), then the server
// closes the connection. `herd snapshot save` sends it.
//
// A backup holds every znode whatever its ACL, so the word is refused unless
// 4lw.commands.whitelist names it explicitly ("*" does not include it).
// Serve it on a TLS port with ssl.clientAuth=need to require a certificate.
const BackupWord = "snap"

// backupWriteTimeout bounds each write of the stream, not the whole backup.
const backupWriteTimeout = 30 * time.Second

// serveBackup answers BackupWord.
func (c *conn) serveBackup() {
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if !slices.Contains(c.srv.cfg.FourLetterWords, BackupWord) {
		_, _ = io.WriteString(c.nc, BackupWord+" is not executed because it is not in the whitelist.\n")
		return
	}
	if !c.srv.serving() {
		_, _ = io.WriteString(c.nc, fourlw.NotServing)
		return
	}
	bw := backup.NewWriter(deadlineWriter{c.nc})
	zxid, err := c.srv.fsm.WriteSnapshotTo(bw)
	if err == nil {
		err = bw.Close()
	}
	if err != nil {
		// The stream stops without its terminator: the client sees it as cut short.
		c.log.Warn("backup not sent", zap.Error(err))
		return
	}
	c.log.Info("backup sent", zap.Int64("zxid", zxid))
}

// deadlineWriter renews the write deadline before each write, so a large
// backup is bounded per write rather than as a whole.
type deadlineWriter struct{ nc net.Conn }

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.nc.SetWriteDeadline(time.Now().Add(backupWriteTimeout))
	return d.nc.Write(p)
}
