//go:build interop

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/testcerts"
	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/tlsconf"
)

// tlsServer runs a herd server whose TLS port needs a client certificate
// (ssl.clientAuth=need, the default) and returns its TLS address.
func tlsServer(t *testing.T, certs *testcerts.Set) string {
	t.Helper()
	cfg, err := tlsconf.ServerConfig(tlsconf.Options{KeyStore: certs.ServerStore, TrustStore: certs.CA, ClientAuth: "need"})
	if err != nil {
		t.Fatal(err)
	}
	return testcerts.ServeTLS(t, herdtest.Start(t).Server(), cfg)
}

// zookeeperTLS starts Apache ZooKeeper 3.8 with the Netty connection factory
// and a secureClientPort configured like tlsServer's, and returns its TLS
// address: the reference the TLS drivers are also run against. Its classpath
// adds the Netty jars zookeeper.jar's manifest leaves out.
func zookeeperTLS(t *testing.T, certs *testcerts.Set) string {
	t.Helper()
	zkpeer.Require(t, append([]string{zkpeer.Jar}, zkNettyJars...)...)
	dir := t.TempDir()
	plain, secure := freeTCPPort(t), freeTCPPort(t)
	cfg := strings.Join([]string{
		"tickTime=2000", "dataDir=" + filepath.Join(dir, "data"),
		"clientPort=" + strconv.Itoa(plain), "clientPortAddress=127.0.0.1",
		"secureClientPort=" + strconv.Itoa(secure), "secureClientPortAddress=127.0.0.1",
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		"ssl.keyStore.location=" + certs.ServerStore, "ssl.trustStore.location=" + certs.CA, "ssl.clientAuth=need",
		"admin.enableServer=false", "4lw.commands.whitelist=*",
	}, "\n") + "\n"
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cp := zkpeer.ConfDir + ":" + strings.Join(zkNettyJars, ":")
	cmd := exec.Command("java", append(append([]string{}, jvmQuick...), "-Xmx256m", "-Dzookeeper.admin.enableServer=false",
		"-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	addr := "127.0.0.1:" + strconv.Itoa(plain)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if out, err := zkpeer.FourLetter(addr, "srvr", time.Second); err == nil && strings.Contains(out, "Mode:") {
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("ZooKeeper exited early:\n%s", tail(string(log), 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("ZooKeeper with TLS did not start")
		}
		time.Sleep(50 * time.Millisecond) // polling a child process's readiness; nothing to wait on
	}
	return "127.0.0.1:" + strconv.Itoa(secure)
}

// tlsTargets are herd's TLS port and, as the reference, ZooKeeper's, both
// needing a client certificate from certs' CA.
func tlsTargets(t *testing.T, certs *testcerts.Set) []Target {
	return []Target{{Name: "herd", Addr: tlsServer(t, certs)}, {Name: "zookeeper", Addr: zookeeperTLS(t, certs)}}
}

// TestKazooOverTLS runs peers/kazoo_tls.py: kazoo with use_ssl and a client
// certificate is served; without one it gets no session.
func TestKazooOverTLS(t *testing.T) {
	zkpeer.Require(t, kazooPython, kazooModule)
	certs := testcerts.New(t)
	for _, tg := range tlsTargets(t, certs) {
		t.Run(tg.Name, func(t *testing.T) {
			cmd := exec.CommandContext(driverContext(t), kazooPython, filepath.Join(peersDir(t), "kazoo_tls.py"),
				tg.Addr, certs.CA, certs.ClientCert, certs.ClientKey)
			runDriver(t, cmd, []string{"tls_crud", "tls_refused_no_cert"})
		})
	}
}

// zkNettyJars are the ZooKeeper Java client's classpath for its Netty socket,
// which TLS needs.
var zkNettyJars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-api.jar",
	"/usr/share/java/netty-buffer.jar",
	"/usr/share/java/netty-codec.jar",
	"/usr/share/java/netty-common.jar",
	"/usr/share/java/netty-handler.jar",
	"/usr/share/java/netty-resolver.jar",
	"/usr/share/java/netty-transport.jar",
	"/usr/share/java/netty-transport-native-epoll.jar",
	"/usr/share/java/netty-transport-native-unix-common.jar",
}

// TestJavaClientOverTLS runs peers/ZooKeeperTlsDriver.java with
// zookeeper.client.secure=true and the Netty socket, its keystore and
// truststore the same PEM files: with the client certificate it gets a
// session and its requests and a watch work; without it, no session.
func TestJavaClientOverTLS(t *testing.T) {
	zkpeer.Require(t, append([]string{"/usr/bin/javac", "/usr/bin/java"}, zkNettyJars...)...)
	cp := strings.Join(zkNettyJars, ":")
	classes := t.TempDir()
	javac := []string{"-d", classes, "-cp", cp, "-nowarn"}
	for _, f := range jvmQuick {
		javac = append(javac, "-J"+f)
	}
	javac = append(javac, filepath.Join(peersDir(t), "ZooKeeperTlsDriver.java"))
	if out, err := exec.CommandContext(driverContext(t), "javac", javac...).CombinedOutput(); err != nil {
		t.Fatalf("javac ZooKeeperTlsDriver.java: %v\n%s", err, out)
	}
	certs := testcerts.New(t)
	secure := []string{
		"-Dzookeeper.client.secure=true",
		"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.ssl.trustStore.location=" + certs.CA,
		"-Dzookeeper.ssl.trustStore.type=PEM",
	}
	withCert := []string{
		"-Dzookeeper.ssl.keyStore.location=" + certs.ClientStore,
		"-Dzookeeper.ssl.keyStore.type=PEM",
	}
	for _, tg := range tlsTargets(t, certs) {
		run := func(mode string, props []string) {
			args := append(append(append([]string{}, jvmQuick...), props...), "-cp", classes+":"+cp, "ZooKeeperTlsDriver", tg.Addr, mode)
			runDriver(t, exec.CommandContext(driverContext(t), "java", args...), []string{"tls_" + mode})
		}
		t.Run(tg.Name+"/with certificate", func(t *testing.T) { run("crud", append(secure, withCert...)) })
		t.Run(tg.Name+"/without certificate", func(t *testing.T) { run("refused", secure) })
	}
}

// TestZkCliOverTLS runs zkCli.sh with the Java client's TLS properties in
// CLIENT_JVMFLAGS, as an operator would, against herd's TLS port. Debian's
// zkEnv.sh fixes a classpath without netty-codec (the manifest of
// zookeeper.jar lacks it), so the flags give a fuller -cp, which java takes
// over the first.
func TestZkCliOverTLS(t *testing.T) {
	zkpeer.Require(t, append([]string{zkpeer.ZkCli}, zkNettyJars...)...)
	certs := testcerts.New(t)
	addr := tlsServer(t, certs)
	cmd := exec.CommandContext(driverContext(t), zkpeer.ZkCli, "-server", addr)
	cmd.Env = append(cmd.Environ(), "CLIENT_JVMFLAGS="+strings.Join([]string{
		"-cp", zkpeer.ConfDir + ":" + strings.Join(zkNettyJars, ":"),
		"-Dzookeeper.client.secure=true",
		"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.ssl.trustStore.location=" + certs.CA,
		"-Dzookeeper.ssl.keyStore.location=" + certs.ClientStore,
	}, " "))
	cmd.Stdin = strings.NewReader("create /cli-tls over-tls\nget /cli-tls\nquit\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Created /cli-tls") || !strings.Contains(string(out), "\nover-tls\n") {
		t.Fatalf("zkCli.sh over TLS: %v\n%s", err, out)
	}
}
