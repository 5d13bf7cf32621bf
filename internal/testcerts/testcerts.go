// Package testcerts generates throw-away certificates for TLS tests: a CA, a
// server certificate for 127.0.0.1/localhost and client certificates, written
// as PEM files in the layout ZooKeeper's PEM stores use. Nothing with a
// private key is committed; every test makes its own.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herd-io/herd/server"
)

// Set is one generated PKI. Every field is a file path.
type Set struct {
	// CA is the CA certificate (a PEM truststore).
	CA string
	// ServerStore is the server's certificate followed by its key (a PEM keystore).
	ServerStore string
	// ClientCert and ClientKey are a client certificate signed by the CA and its key.
	ClientCert, ClientKey string
	// ClientStore is ClientCert and ClientKey in one file (a PEM keystore).
	ClientStore string
	// StrangerCert and StrangerKey are a client certificate from another CA.
	StrangerCert, StrangerKey string
}

// New writes a fresh Set into a temporary directory of t.
func New(t testing.TB) *Set {
	t.Helper()
	dir := t.TempDir()
	s := &Set{
		CA:           filepath.Join(dir, "ca.pem"),
		ServerStore:  filepath.Join(dir, "server.pem"),
		ClientCert:   filepath.Join(dir, "client-cert.pem"),
		ClientKey:    filepath.Join(dir, "client-key.pem"),
		ClientStore:  filepath.Join(dir, "client.pem"),
		StrangerCert: filepath.Join(dir, "stranger-cert.pem"),
		StrangerKey:  filepath.Join(dir, "stranger-key.pem"),
	}
	ca, caKey := authority(t, "herd test CA")
	write(t, s.CA, certPEM(ca))
	srv, srvKey := leaf(t, ca, caKey, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	write(t, s.ServerStore, certPEM(srv), keyPEM(t, srvKey))
	cli, cliKey := leaf(t, ca, caKey, "herd-test-client", x509.ExtKeyUsageClientAuth)
	write(t, s.ClientCert, certPEM(cli))
	write(t, s.ClientKey, keyPEM(t, cliKey))
	write(t, s.ClientStore, certPEM(cli), keyPEM(t, cliKey))
	other, otherKey := authority(t, "another CA")
	str, strKey := leaf(t, other, otherKey, "stranger", x509.ExtKeyUsageClientAuth)
	write(t, s.StrangerCert, certPEM(str))
	write(t, s.StrangerKey, keyPEM(t, strKey))
	return s
}

// ClientConfig returns a tls.Config trusting the CA, presenting the client
// certificate when withCert is set.
func (s *Set) ClientConfig(t testing.TB, withCert bool) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if withCert {
		c, err := tls.LoadX509KeyPair(s.ClientCert, s.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

// next returns a random serial number, so certificates of parallel tests differ.
func next() *big.Int {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

func authority(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          next(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	return sign(t, tmpl, tmpl, key, key), key
}

func leaf(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: next(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	return sign(t, tmpl, ca, key, caKey), key
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// keyPEM writes PKCS#8, the form Java's PEM loader reads.
func keyPEM(t testing.TB, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func write(t testing.TB, path string, parts ...[]byte) {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	if err := os.WriteFile(path, all, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ServeTLS serves srv's clients over TLS on a new 127.0.0.1:0 listener too,
// as a secureClientPort does, and returns its address. The listener is
// closed, and its Serve loop waited for, when the test ends.
func ServeTLS(t testing.TB, srv *server.Server, cfg *tls.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(tls.NewListener(l, cfg)) // an accept error once closed
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}
