package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/internal/testcerts"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server"
	"github.com/herd-io/herd/server/zoocfg"
)

// TestServeSecureClientPort: a zoo.cfg with secureClientPort and PEM stores
// serves TLS beside the plain port, requiring a client certificate (need).
func TestServeSecureClientPort(t *testing.T) {
	certs := testcerts.New(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	port := freePort(t)
	zoo := fmt.Sprintf("dataDir=%s\nsecureClientPort=%d\nsecureClientPortAddress=127.0.0.1\n"+
		"ssl.keyStore.location=%s\nssl.trustStore.location=%s\nssl.clientAuth=need\n4lw.commands.whitelist=ruok\n",
		filepath.Join(dir, "data"), port, certs.ServerStore, certs.CA)
	if err := os.WriteFile(cfg, []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stop, status := startServe(t, "--config", cfg, "--listen", "127.0.0.1:0", "--log-level", "error")
	defer func() {
		stop()
		if code := <-status; code != 0 {
			t.Errorf("exit status %d", code)
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ruok := func(withCert bool) (string, error) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, certs.ClientConfig(t, withCert))
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("ruok")); err != nil {
			return "", err
		}
		buf := make([]byte, 4)
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	if got, err := ruok(true); got != "imok" {
		t.Errorf("with a certificate: ruok = %q, %v", got, err)
	}
	if got, err := ruok(false); err == nil {
		t.Errorf("without a certificate: ruok = %q, want a refused handshake", got)
	}
}

// TestServeRefusesBadTLSSettings: a JKS keystore is refused at start, naming the key.
func TestServeRefusesBadTLSSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	zoo := fmt.Sprintf("dataDir=%s\nclientPort=0\nsecureClientPort=2281\nssl.keyStore.location=%s\n",
		filepath.Join(dir, "data"), filepath.Join(dir, "keystore.jks"))
	if err := os.WriteFile(cfg, []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	code, logs := serveSync(t, "--config", cfg, "--log-level", "error")
	if code != 2 || !strings.Contains(logs, "ssl.keyStore.location") || !strings.Contains(logs, "JKS") {
		t.Errorf("exit %d, log %q; want exit 2 naming ssl.keyStore.location", code, logs)
	}
}

// TestApplyZooCfgOpsKeys: enforceQuota and autopurge reach the server's
// configuration; snapRetainCount counts only while purgeInterval is set, as
// ZooKeeper's purge task runs only then.
func TestApplyZooCfgOpsKeys(t *testing.T) {
	for _, tc := range []struct {
		lines   string
		retain  int
		enforce bool
	}{
		{"", 0, false},
		{"autopurge.snapRetainCount=5\n", 0, false},
		{"autopurge.snapRetainCount=5\nautopurge.purgeInterval=1\nenforceQuota=true\n", 5, true},
		{"autopurge.purgeInterval=1\n", 3, false},
	} {
		zc, err := zoocfg.Parse(strings.NewReader("dataDir=/d\n" + tc.lines))
		if err != nil {
			t.Fatal(err)
		}
		var cfg server.Config
		applyZooCfg(&cfg, zc, zap.NewNop())
		if cfg.SnapshotsRetained != tc.retain || cfg.EnforceQuota != tc.enforce {
			t.Errorf("%q: SnapshotsRetained %d EnforceQuota %v, want %d %v", tc.lines, cfg.SnapshotsRetained, cfg.EnforceQuota, tc.retain, tc.enforce)
		}
	}
}

// TestServePortUnification: client.portUnification=true serves plain and
// TLS clients on clientPort.
func TestServePortUnification(t *testing.T) {
	certs := testcerts.New(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	zoo := fmt.Sprintf("dataDir=%s\nclient.portUnification=true\nssl.keyStore.location=%s\nssl.trustStore.location=%s\n4lw.commands.whitelist=ruok\n",
		filepath.Join(dir, "data"), certs.ServerStore, certs.CA)
	if err := os.WriteFile(cfg, []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, stop, status := startServe(t, "--config", cfg, "--listen", "127.0.0.1:0", "--log-level", "error")
	defer func() {
		stop()
		if code := <-status; code != 0 {
			t.Errorf("exit status %d", code)
		}
	}()
	if got, err := zkpeer.FourLetter(addr, "ruok", 5*time.Second); got != "imok" {
		t.Errorf("plain ruok on the unified port = %q, %v", got, err)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, certs.ClientConfig(t, true))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write([]byte("ruok"))
	buf := make([]byte, 4)
	if n, err := c.Read(buf); string(buf[:n]) != "imok" {
		t.Errorf("TLS ruok on the unified port = %q, %v", buf[:n], err)
	}
}
