package zkpeer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Restart starts a server stopped with Stop again, with the same zoo.cfg, so
// on the same port and data directory: sessions and data survive, as after a
// crash of a real server. The server log is appended to.
func (s *Server) Restart(ctx context.Context) error {
	select {
	case <-s.done:
	default:
		return fmt.Errorf("zkpeer: Restart of %s while it is running", s.Addr)
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "zk.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	old := s.cmd
	cmd := exec.Command(old.Path, old.Args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = old.SysProcAttr
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("zkpeer: restart java: %w", err)
	}
	s.cmd, s.log, s.done = cmd, logf, make(chan struct{})
	done := s.done
	go func() { _ = cmd.Wait(); close(done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// RestartT is Restart for a test, failing it on error (60 s limit).
func (s *Server) RestartT(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("restart ZooKeeper: %v", err)
	}
}
