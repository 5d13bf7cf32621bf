// Package tlsconf builds the TLS configuration of herd's secure client port
// from ZooKeeper's ssl.* keys, reading PEM files as ZooKeeper 3.8's
// PEMFileLoader does: the keystore holds the server's certificate chain and
// its private key, the truststore the CA certificates client certificates are
// checked against.
//
// Java keystores (JKS, PKCS12, BCFKS) are refused with an error naming the key;
// convert them to PEM with keytool and openssl.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrConfig is wrapped by every error about the TLS settings or their files.
var ErrConfig = errors.New("bad TLS configuration")

// ClientAuth values of ssl.clientAuth. ZooKeeper's default is Need.
const (
	ClientAuthNone = "none"
	ClientAuthWant = "want"
	ClientAuthNeed = "need"
)

// Options are the ssl.* settings of zoo.cfg that the secure port uses.
type Options struct {
	// KeyStore is ssl.keyStore.location: a PEM file with the certificate
	// chain (leaf first) and the private key.
	KeyStore string
	// KeyStoreType is ssl.keyStore.type; empty means "from the file name".
	KeyStoreType string
	// TrustStore is ssl.trustStore.location: a PEM file of CA certificates.
	// Empty means the system's roots, as Java falls back to its own.
	TrustStore string
	// TrustStoreType is ssl.trustStore.type; empty means "from the file name".
	TrustStoreType string
	// ClientAuth is ssl.clientAuth: none, want or need (empty means need).
	ClientAuth string
}

// ServerConfig returns the tls.Config of a secure client port.
func ServerConfig(o Options) (*tls.Config, error) {
	if o.KeyStore == "" {
		return nil, fmt.Errorf("tlsconf: %w: ssl.keyStore.location is not set", ErrConfig)
	}
	if err := checkType("ssl.keyStore", o.KeyStore, o.KeyStoreType); err != nil {
		return nil, err
	}
	cert, err := loadKeyStore("ssl.keyStore.location", o.KeyStore)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12, // ZooKeeper's ssl.protocol default
	}
	if o.TrustStore != "" {
		if err := checkType("ssl.trustStore", o.TrustStore, o.TrustStoreType); err != nil {
			return nil, err
		}
		cfg.ClientCAs, err = loadTrustStore("ssl.trustStore.location", o.TrustStore)
		if err != nil {
			return nil, err
		}
	}
	switch strings.ToLower(o.ClientAuth) {
	case "", ClientAuthNeed:
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case ClientAuthWant:
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case ClientAuthNone:
		cfg.ClientAuth = tls.NoClientCert
	default:
		return nil, fmt.Errorf("tlsconf: %w: ssl.clientAuth: %q is not none, want or need", ErrConfig, o.ClientAuth)
	}
	return cfg, nil
}

// checkType refuses store types other than PEM, given by the type key or, as
// ZooKeeper infers it, by the file's extension.
func checkType(key, path, typ string) error {
	t := strings.ToUpper(typ)
	if t == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jks":
			t = "JKS"
		case ".p12", ".pfx":
			t = "PKCS12"
		case ".bcfks":
			t = "BCFKS"
		default:
			t = "PEM"
		}
	}
	if t != "PEM" {
		return fmt.Errorf("tlsconf: %w: %s.location: %s is a %s store; herd reads PEM files only "+
			"(convert it, e.g. keytool -importkeystore -deststoretype PKCS12 then openssl pkcs12 -nodes)",
			ErrConfig, key, path, t)
	}
	return nil
}

// loadKeyStore reads a PEM keystore; key names the setting in errors.
func loadKeyStore(key, path string) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w: %s: %w", ErrConfig, key, err)
	}
	var certs, keys []byte
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			certs = append(certs, pem.EncodeToMemory(b)...)
		case b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED":
			return tls.Certificate{}, fmt.Errorf("tlsconf: %w: %s: %s holds an encrypted private key; herd reads "+
				"unencrypted keys only (decrypt it with openssl pkey, and drop ssl.keyStore.password)", ErrConfig, key, path)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			keys = append(keys, pem.EncodeToMemory(b)...)
		}
	}
	switch {
	case certs == nil && keys == nil:
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w: %s: %s holds no PEM blocks (is it a JKS or PKCS12 store?)",
			ErrConfig, key, path)
	case certs == nil:
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w: %s: %s holds no CERTIFICATE", ErrConfig, key, path)
	case keys == nil:
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w: %s: %s holds no PRIVATE KEY", ErrConfig, key, path)
	}
	cert, err := tls.X509KeyPair(certs, keys)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w: %s: %s: %w", ErrConfig, key, path, err)
	}
	return cert, nil
}

// loadTrustStore reads a PEM truststore; key names the setting in errors.
func loadTrustStore(key, path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: %w: %s: %w", ErrConfig, key, err)
	}
	pool := x509.NewCertPool()
	n := 0
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: %w: %s: %s: certificate %d: %w", ErrConfig, key, path, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("tlsconf: %w: %s: %s holds no PEM CERTIFICATE (is it a JKS or PKCS12 store?)",
			ErrConfig, key, path)
	}
	return pool, nil
}

// ClientOptions are the files a client (herd shell) speaks TLS with, as
// zkCli's zookeeper.ssl.* properties name them.
type ClientOptions struct {
	// CA is a PEM file of the CA certificates the server's certificate must
	// chain to; empty means the system's roots.
	CA string
	// Cert is a PEM file with the client's certificate chain, and its
	// private key too unless Key is set. Empty sends no certificate.
	Cert string
	// Key is a PEM file with Cert's private key, when it is not in Cert.
	Key string
	// ServerName, when set, is the name the server's certificate must carry;
	// empty means the host of the address dialled.
	ServerName string
}

// ClientConfig returns the tls.Config of a client from o. Errors wrap
// ErrConfig and name the file.
func ClientConfig(o ClientOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.CA != "" {
		pool, err := loadTrustStore("CA file", o.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	switch {
	case o.Cert == "" && o.Key != "":
		return nil, fmt.Errorf("tlsconf: %w: key file %s given without a certificate file", ErrConfig, o.Key)
	case o.Cert != "" && o.Key != "":
		cert, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: %w: certificate file %s with key file %s: %w", ErrConfig, o.Cert, o.Key, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case o.Cert != "":
		cert, err := loadKeyStore("certificate file", o.Cert)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
