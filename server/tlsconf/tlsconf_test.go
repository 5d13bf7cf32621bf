package tlsconf_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/testcerts"
	"github.com/herd-io/herd/server/tlsconf"
)

// serveTLS starts a herd server with a TLS port configured as o (the
// keystore and truststore of certs filled in) and returns its address.
func serveTLS(t *testing.T, certs *testcerts.Set, clientAuth string) string {
	t.Helper()
	cfg, err := tlsconf.ServerConfig(tlsconf.Options{KeyStore: certs.ServerStore, TrustStore: certs.CA, ClientAuth: clientAuth})
	if err != nil {
		t.Fatal(err)
	}
	srv := herdtest.Start(t)
	return testcerts.ServeTLS(t, srv.Server(), cfg)
}

// dialZK connects go-zookeeper over TLS with cfg and waits for a session.
func dialZK(t *testing.T, addr string, cfg *tls.Config) *zk.Conn {
	t.Helper()
	dialer := func(network, address string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, cfg)
	}
	c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithDialer(dialer), zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatal("no session over TLS")
		}
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// TestGoZooKeeperOverTLS: with ssl.clientAuth=need and a client certificate
// signed by the truststore's CA, go-zookeeper gets a session and its writes
// and reads work over TLS.
func TestGoZooKeeperOverTLS(t *testing.T) {
	certs := testcerts.New(t)
	addr := serveTLS(t, certs, "need")
	c := dialZK(t, addr, certs.ClientConfig(t, true))
	if _, err := c.Create("/tls", []byte("secret"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	data, _, err := c.Get("/tls")
	if err != nil || string(data) != "secret" {
		t.Fatalf("get = %q, %v", data, err)
	}
}

// TestClientCertificateRequired: under need, a client without a certificate,
// or with one from another CA, gets no reply (the handshake fails); under
// want and none, a client without a certificate is served.
func TestClientCertificateRequired(t *testing.T) {
	certs := testcerts.New(t)
	need := serveTLS(t, certs, "") // ZooKeeper's default is need
	if err := handshake(need, certs.ClientConfig(t, false)); err == nil {
		t.Error("need: a client without a certificate was served")
	}
	stranger := certs.ClientConfig(t, false)
	c, err := tls.LoadX509KeyPair(certs.StrangerCert, certs.StrangerKey)
	if err != nil {
		t.Fatal(err)
	}
	stranger.Certificates = []tls.Certificate{c}
	if err := handshake(need, stranger); err == nil {
		t.Error("need: a client with another CA's certificate was served")
	}
	if err := handshake(need, certs.ClientConfig(t, true)); err != nil {
		t.Errorf("need: a client with a good certificate: %v", err)
	}
	for _, mode := range []string{"want", "none"} {
		addr := serveTLS(t, certs, mode)
		if err := handshake(addr, certs.ClientConfig(t, false)); err != nil {
			t.Errorf("%s: a client without a certificate: %v", mode, err)
		}
	}
	// A plain-text client on the TLS port is not served either.
	nc, err := net.Dial("tcp", need)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("ruok\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 16)
	if n, _ := nc.Read(buf); n > 0 && string(buf[:n]) == "imok" {
		t.Error("a plain-text ruok was answered on the TLS port")
	}
}

// handshake completes a TLS handshake and one four-letter exchange. TLS 1.3
// reports a refused client certificate only on the first read, so a read is
// what tells served from refused.
func handshake(addr string, cfg *tls.Config) error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("ruok")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	if _, err := conn.Read(buf); err != nil {
		return err
	}
	if string(buf) != "imok" {
		return errors.New("ruok answered " + string(buf))
	}
	return nil
}

// TestServerConfigRefusals: every bad setting is refused with ErrConfig and a
// message naming the key.
func TestServerConfigRefusals(t *testing.T) {
	certs := testcerts.New(t)
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		o    tlsconf.Options
		want string
	}{
		{"no keystore", tlsconf.Options{}, "ssl.keyStore.location is not set"},
		{"missing file", tlsconf.Options{KeyStore: filepath.Join(dir, "nope.pem")}, "ssl.keyStore.location"},
		{"jks by name", tlsconf.Options{KeyStore: file("k.jks", "x")}, "ssl.keyStore.location: " + filepath.Join(dir, "k.jks") + " is a JKS store"},
		{"pkcs12 by type", tlsconf.Options{KeyStore: certs.ServerStore, KeyStoreType: "PKCS12"}, "is a PKCS12 store"},
		{"not pem", tlsconf.Options{KeyStore: file("bin.pem", "\xfe\xed\xfe\xed")}, "holds no PEM blocks"},
		{"cert only", tlsconf.Options{KeyStore: certs.CA}, "holds no PRIVATE KEY"},
		{"key only", tlsconf.Options{KeyStore: certs.ClientKey}, "holds no CERTIFICATE"},
		{"key of another cert", tlsconf.Options{KeyStore: file("mixed.pem", read(certs.ClientCert)+read(certs.StrangerKey))}, "ssl.keyStore.location"},
		{"encrypted key", tlsconf.Options{KeyStore: file("enc.pem", read(certs.ClientCert)+
			"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")}, "encrypted private key"},
		{"truststore p12", tlsconf.Options{KeyStore: certs.ServerStore, TrustStore: file("t.p12", "x")}, "ssl.trustStore.location: " + filepath.Join(dir, "t.p12") + " is a PKCS12 store"},
		{"truststore empty", tlsconf.Options{KeyStore: certs.ServerStore, TrustStore: certs.ClientKey}, "ssl.trustStore.location"},
		{"bad clientAuth", tlsconf.Options{KeyStore: certs.ServerStore, ClientAuth: "maybe"}, "ssl.clientAuth"},
	} {
		_, err := tlsconf.ServerConfig(tc.o)
		if !errors.Is(err, tlsconf.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want ErrConfig naming %q", tc.name, err, tc.want)
		}
	}
	cfg, err := tlsconf.ServerConfig(tlsconf.Options{KeyStore: certs.ServerStore, KeyStoreType: "pem", ClientAuth: "WANT"})
	if err != nil || cfg.ClientAuth != tls.VerifyClientCertIfGiven || cfg.ClientCAs != nil {
		t.Errorf("good config: %v, %v", cfg, err)
	}
}

// TestUnifiedPort: with client.portUnification one port serves a plain
// client (ruok, and a go-zookeeper session) and a TLS client, whose
// certificate is still required.
func TestUnifiedPort(t *testing.T) {
	certs := testcerts.New(t)
	cfg, err := tlsconf.ServerConfig(tlsconf.Options{KeyStore: certs.ServerStore, TrustStore: certs.CA})
	if err != nil {
		t.Fatal(err)
	}
	srv := herdtest.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Server().Serve(tlsconf.Unified(l, cfg)) }()
	t.Cleanup(func() { l.Close(); <-done })
	addr := l.Addr().String()

	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = nc.Write([]byte("ruok"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "imok" {
		t.Errorf("plain ruok: %q, %v", buf, err)
	}
	nc.Close()
	plain, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.Create("/plain", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("plain session: %v", err)
	}
	c := dialZK(t, addr, certs.ClientConfig(t, true))
	if _, _, err := c.Get("/plain"); err != nil {
		t.Fatalf("TLS session on the same port: %v", err)
	}
	if err := handshake(addr, certs.ClientConfig(t, false)); err == nil {
		t.Error("a TLS client without a certificate was served on the unified port")
	}
}
