package shell

import (
	"errors"
	"strings"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/testcerts"
	"github.com/herd-io/herd/server/tlsconf"
)

// TestShellOverTLS runs the shell against a secure client port that needs a
// client certificate: with the CA and the certificate it works; without the
// certificate, or trusting another CA, it fails to connect and says so.
func TestShellOverTLS(t *testing.T) {
	certs := testcerts.New(t)
	cfg, err := tlsconf.ServerConfig(tlsconf.Options{KeyStore: certs.ServerStore, TrustStore: certs.CA})
	if err != nil {
		t.Fatal(err)
	}
	addr := testcerts.ServeTLS(t, herdtest.Start(t).Server(), cfg)

	for name, args := range map[string][]string{
		"cert and key files": {"-tls-ca", certs.CA, "-tls-cert", certs.ClientCert, "-tls-key", certs.ClientKey},
		"one keystore file":  {"-tls-ca", certs.CA, "-tls-cert", certs.ClientStore},
	} {
		t.Run(name, func(t *testing.T) {
			path := "/" + strings.ReplaceAll(name, " ", "-")
			args := append(args, "-server", addr, "-connect-timeout", "5s")
			if _, errs, code := mainRun(t, "", append(args, "create", path, "over-tls")...); code != 0 {
				t.Fatalf("create: exit %d: %s", code, errs)
			}
			out, errs, code := mainRun(t, "", append(args, "get", path)...)
			if code != 0 || out != "over-tls\n" {
				t.Fatalf("get: exit %d, stdout %q, stderr %s", code, out, errs)
			}
		})
	}

	t.Run("no client certificate", func(t *testing.T) {
		_, errs, code := mainRun(t, "", "-tls-ca", certs.CA, "-server", addr, "-connect-timeout", "1s", "ls", "/")
		if code != exitFailed {
			t.Fatalf("exit %d, want %d: the port needs a client certificate", code, exitFailed)
		}
		if !strings.Contains(errs, "certificate") {
			t.Fatalf("stderr %q does not say why", errs)
		}
	})
	t.Run("untrusted server", func(t *testing.T) {
		// The stranger's certificate is not a CA of the server's chain.
		_, errs, code := mainRun(t, "", "-tls-ca", certs.StrangerCert, "-tls-cert", certs.ClientStore,
			"-server", addr, "-connect-timeout", "1s", "ls", "/")
		if code != exitFailed {
			t.Fatalf("exit %d, want %d: the server's certificate is not from the trusted CA", code, exitFailed)
		}
		if !strings.Contains(errs, "certificate") {
			t.Fatalf("stderr %q does not say why", errs)
		}
	})
}

// TestShellTLSFlagErrors: bad TLS files are refused before any dial, with
// the file named.
func TestShellTLSFlagErrors(t *testing.T) {
	certs := testcerts.New(t)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"missing CA":       {[]string{"-tls-ca", "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"},
		"key without cert": {[]string{"-tls-key", certs.ClientKey}, certs.ClientKey},
		"cert without key": {[]string{"-tls-cert", certs.ClientCert}, certs.ClientCert},
	} {
		t.Run(name, func(t *testing.T) {
			_, errs, code := mainRun(t, "", append(c.args, "ls", "/")...)
			if code != exitBadArgs || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %s", code, errs, exitBadArgs, c.want)
			}
		})
	}
	_, err := tlsconf.ClientConfig(tlsconf.ClientOptions{Key: certs.ClientKey})
	if !errors.Is(err, tlsconf.ErrConfig) {
		t.Fatalf("ClientConfig with a key alone: %v, want ErrConfig", err)
	}
}
