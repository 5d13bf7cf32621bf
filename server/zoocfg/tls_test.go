package zoocfg

import (
	"errors"
	"strings"
	"testing"

	"github.com/herd-io/herd/server/tlsconf"
)

func TestSecureClientPortKeys(t *testing.T) {
	c, err := Parse(strings.NewReader("dataDir=/d\nclientPort=2181\nsecureClientPort=2281\nsecureClientPortAddress=127.0.0.1\n" +
		"ssl.keyStore.location=/k.pem\nssl.keyStore.password=hush\nzookeeper.ssl.trustStore.location=/ca.pem\n" +
		"ssl.trustStore.type=PEM\nssl.trustStore.password=hush\nssl.clientAuth=want\n" +
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := tlsconf.Options{KeyStore: "/k.pem", TrustStore: "/ca.pem", TrustStoreType: "PEM", ClientAuth: "want"}
	if c.TLS != want || c.SecureAddr() != "127.0.0.1:2281" || c.PortUnification {
		t.Errorf("TLS = %+v, SecureAddr = %q", c.TLS, c.SecureAddr())
	}
	// Passwords are consumed, never kept among the keys logged as ignored.
	for k := range c.Extra {
		if strings.Contains(k, "password") {
			t.Errorf("%s is in Extra", k)
		}
	}
	if c.Extra["serverCnxnFactory"] == "" {
		t.Errorf("serverCnxnFactory is not kept as ignored: %v", c.Extra)
	}
	if c, err := Parse(strings.NewReader("dataDir=/d\n")); err != nil || c.SecureAddr() != "" {
		t.Errorf("no secureClientPort: SecureAddr %q, %v", c.SecureAddr(), err)
	}
}

func TestSecureClientPortRefusals(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dataDir=/d\nsecureClientPort=2281\n", "ssl.keyStore.location is not set"},
		{"dataDir=/d\nsecureClientPortAddress=::1\n", "secureClientPort is not set"},
		{"dataDir=/d\nsecureClientPort=99999\n", "line 2: secureClientPort"},
		{"dataDir=/d\nssl.clientAuth=sometimes\n", "line 2: ssl.clientAuth"},
		{"dataDir=/d\nclient.portUnification=true\n", "client.portUnification is set but ssl.keyStore.location is not set"},
		{"dataDir=/d\nclient.portUnification=maybe\n", "line 2: client.portUnification"},
	} {
		_, err := Parse(strings.NewReader(tc.in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid naming %q", tc.in, err, tc.want)
		}
	}
}

func TestEnforceQuotaKey(t *testing.T) {
	for in, want := range map[string]bool{"": false, "enforceQuota=true\n": true, "zookeeper.enforceQuota=true\n": true, "enforceQuota=false\n": false} {
		c, err := Parse(strings.NewReader("dataDir=/d\n" + in))
		if err != nil || c.EnforceQuota != want {
			t.Errorf("%q: EnforceQuota %v, %v", in, c.EnforceQuota, err)
		}
	}
	if _, err := Parse(strings.NewReader("dataDir=/d\nenforceQuota=yes\n")); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "line 2: enforceQuota") {
		t.Errorf("enforceQuota=yes: %v", err)
	}
}

func TestAutopurgeKeys(t *testing.T) {
	c, err := Parse(strings.NewReader("dataDir=/d\n"))
	if err != nil || c.SnapRetainCount != 3 || c.PurgeInterval != 0 {
		t.Errorf("defaults: %d %d %v", c.SnapRetainCount, c.PurgeInterval, err)
	}
	c, err = Parse(strings.NewReader("dataDir=/d\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=24\n"))
	if err != nil || c.SnapRetainCount != 3 || c.PurgeInterval != 24 {
		t.Errorf("retain 1 is raised to 3: %d %d %v", c.SnapRetainCount, c.PurgeInterval, err)
	}
	c, err = Parse(strings.NewReader("dataDir=/d\nautopurge.snapRetainCount=7\n"))
	if err != nil || c.SnapRetainCount != 7 {
		t.Errorf("retain 7: %d %v", c.SnapRetainCount, err)
	}
	if _, err := Parse(strings.NewReader("dataDir=/d\nautopurge.purgeInterval=x\n")); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "line 2: autopurge.purgeInterval") {
		t.Errorf("bad interval: %v", err)
	}
}
