package zoocfg

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
)

const debianCfg = "/etc/zookeeper/conf/zoo.cfg"

func TestDebianZooCfg(t *testing.T) {
	zkpeer.Require(t, debianCfg)
	c, err := Load(debianCfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.TickTime != 2*time.Second || c.InitLimit != 10 || c.SyncLimit != 5 {
		t.Errorf("tick/init/sync = %v/%d/%d", c.TickTime, c.InitLimit, c.SyncLimit)
	}
	if c.DataDir != "/tmp/zookeeper" || c.DataLogDir != "/tmp/zookeeper" || c.ClientPort != 2181 {
		t.Errorf("dataDir %q dataLogDir %q clientPort %d", c.DataDir, c.DataLogDir, c.ClientPort)
	}
	if c.ClientAddr() != "0.0.0.0:2181" || c.MaxClientCnxns != 60 {
		t.Errorf("ClientAddr %q maxClientCnxns %d", c.ClientAddr(), c.MaxClientCnxns)
	}
	if c.MinSessionTimeout != 4*time.Second || c.MaxSessionTimeout != 40*time.Second {
		t.Errorf("session timeouts %v..%v", c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	if c.Distributed() || len(c.Extra) != 0 {
		t.Errorf("servers %v extra %v", c.Servers, c.Extra)
	}
}

func TestEveryField(t *testing.T) {
	in := `# comment
! another comment
   tickTime = 500
dataDir=/var/herd
dataLogDir:/var/herd-log
clientPort 2281
clientPortAddress=127.0.0.1
maxClientCnxns=0
minSessionTimeout=-1
maxSessionTimeout=30000
jute.maxbuffer=4194304
4lw.commands.whitelist=stat, ruok ,conf,,isro
zookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
zookeeper.extendedTypesEnabled=TRUE
initLimit=10
syncLimit=5
server.1=10.0.0.1:2888:3888
server.2=[::1]:2889:3889:observer;2182
server.3=host3:2890:3890:participant;127.0.0.3:2183
admin.enableServer=false
syncEnabled=true
long.value=one \
    two
escaped\ key=tab\there\u0041
`
	c, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		TickTime:             500 * time.Millisecond,
		DataDir:              "/var/herd",
		DataLogDir:           "/var/herd-log",
		ClientPort:           2281,
		ClientPortAddress:    "127.0.0.1",
		MaxClientCnxns:       0,
		MinSessionTimeout:    time.Second,
		MaxSessionTimeout:    30 * time.Second,
		JuteMaxBuffer:        4194304,
		FourLetterWhitelist:  []string{"stat", "ruok", "conf", "isro"},
		SuperDigest:          "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		ExtendedTypesEnabled: true,
		InitLimit:            10,
		SyncLimit:            5,
		StandaloneEnabled:    true,
		SnapRetainCount:      3,
		Servers: map[int]Server{
			1: {Host: "10.0.0.1", PeerPort: 2888, ElectionPort: 3888, Role: RoleParticipant},
			2: {Host: "::1", PeerPort: 2889, ElectionPort: 3889, Role: RoleObserver, ClientAddr: "0.0.0.0:2182"},
			3: {Host: "host3", PeerPort: 2890, ElectionPort: 3890, Role: RoleParticipant, ClientAddr: "127.0.0.3:2183"},
		},
		MetricsHTTPHost:      "0.0.0.0",
		MetricsHTTPPort:      DefaultMetricsPort,
		MetricsExportRuntime: true,
		AdminAddress:         "0.0.0.0",
		AdminPort:            DefaultAdminPort,
		AdminCommandURL:      "/commands",
		Extra: map[string]string{
			"syncEnabled": "true",
			"long.value":  "one two",
			"escaped key": "tab\thereA",
		},
		Ignored: []Ignored{
			{Key: "syncEnabled", Value: "true", Line: 21, Known: true},
			{Key: "long.value", Value: "one two", Line: 22},
			{Key: "escaped key", Value: "tab\thereA", Line: 24},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if got := c.ClientAddr(); got != "127.0.0.1:2281" {
		t.Errorf("ClientAddr = %q", got)
	}
	if got := c.Servers[2].PeerAddr(); got != "[::1]:2889" {
		t.Errorf("PeerAddr = %q", got)
	}
	if got := c.Servers[1].ElectionAddr(); got != "10.0.0.1:3888" {
		t.Errorf("ElectionAddr = %q", got)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader("dataDir=/d\nclientPort=2181\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.TickTime != DefaultTickTime || c.JuteMaxBuffer != 0xfffff || c.MaxClientCnxns != 60 ||
		!reflect.DeepEqual(c.FourLetterWhitelist, []string{"srvr"}) || c.ExtendedTypesEnabled ||
		c.SuperDigest != "" || c.MinSessionTimeout != 4*time.Second || c.MaxSessionTimeout != 40*time.Second {
		t.Errorf("defaults wrong: %+v", c)
	}
	// The unprefixed spellings are accepted too.
	c, err = Parse(strings.NewReader("dataDir=/d\nextendedTypesEnabled=true\nDigestAuthenticationProvider.superDigest=super:x\n4lw.commands.whitelist=*\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.ExtendedTypesEnabled || c.SuperDigest != "super:x" || !reflect.DeepEqual(c.FourLetterWhitelist, []string{"*"}) {
		t.Errorf("got %+v", c)
	}
}

func TestClientAddrFromServerLine(t *testing.T) {
	c, err := Parse(strings.NewReader("dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.7=h:1:2;127.0.0.1:2999\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.MyID = 7
	if got := c.ClientAddr(); got != "127.0.0.1:2999" {
		t.Errorf("ClientAddr = %q", got)
	}
}

func TestBadLines(t *testing.T) {
	for _, tc := range []struct{ in, line string }{
		{"dataDir=/d\ntickTime=abc\n", "line 2"},
		{"dataDir=/d\n\n# c\njustakey\n", "line 4"},
		{"dataDir=/d\nclientPort=70000\n", "line 2"},
		{"dataDir=/d\nmaxClientCnxns=-5\n", "line 2"},
		{"dataDir=/d\nminSessionTimeout=-2\n", "line 2"},
		{"dataDir=/d\nextendedTypesEnabled=yes\n", "line 2"},
		{"dataDir=/d\njute.maxbuffer=0\n", "line 2"},
		{"dataDir=/d\nsuperkey=1\nzookeeper.DigestAuthenticationProvider.superDigest=nocolon\n", "line 3"},
		{"dataDir=/d\nserver.x=h:1:2\n", "line 2"},
		{"dataDir=/d\nserver.1=h:1\n", "line 2"},
		{"dataDir=/d\nserver.1=h:1:2:3:4\n", "line 2"},
		{"dataDir=/d\nserver.1=h:1:1\n", "line 2"},
		{"dataDir=/d\nserver.1=h:1:2:leader\n", "line 2"},
		{"dataDir=/d\nserver.1=h:1:2;a:b:3\n", "line 2"},
		{"dataDir=/d\nserver.1=h:1:2;x\n", "line 2"},
		{"dataDir=/d\nserver.1=[::1:1:2\n", "line 2"},
		{"dataDir=/d\nserver.1=h:1:2\nserver.1=h:3:4\n", "line 3"},
		{"dataDir=/d\nkey=bad\\u12\n", "line 2"},
		{"dataDir=/d\na=b\\\n c\nbroken\n", "line 4"},
	} {
		_, err := Parse(strings.NewReader(tc.in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.line+":") {
			t.Errorf("Parse(%q) = %v, want ErrInvalid at %s", tc.in, err, tc.line)
		}
	}
}

func TestWholeFileChecks(t *testing.T) {
	for _, in := range []string{
		"tickTime=2000\n",                                           // no dataDir
		"dataDir=/d\ntickTime=0\n",                                  // tickTime not set
		"dataDir=/d\nclientPortAddress=1.2.3.4\n",                   // address without port
		"dataDir=/d\nminSessionTimeout=9\nmaxSessionTimeout=8\n",    // min > max
		"dataDir=/d\nserver.1=h:1:2\nserver.2=i:1:2\nsyncLimit=2\n", // no initLimit
		"dataDir=/d\nserver.1=h:1:2\nserver.2=i:1:2\ninitLimit=2\n", // no syncLimit
		"dataDir=/d\nserver.1=h:1:2\nstandaloneEnabled=false\n",     // an ensemble without limits
	} {
		if _, err := Parse(strings.NewReader(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

// writeEnsembleCfg writes node i's files the way /work/shared/tools/zk-ensemble.sh does.
func writeEnsembleCfg(t *testing.T, i, n, base int, myid string) string {
	t.Helper()
	d := t.TempDir()
	data := filepath.Join(d, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if myid != "" {
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(myid+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lines := []string{"tickTime=2000", "initLimit=10", "syncLimit=5", "dataDir=" + data,
		"clientPort=" + itoa(base+i), "clientPortAddress=127.0.0.1",
		"admin.enableServer=false", "4lw.commands.whitelist=*", "maxClientCnxns=0"}
	for j := 1; j <= n; j++ {
		lines = append(lines, "server."+itoa(j)+"=127.0.0.1:"+itoa(base+80+j)+":"+itoa(base+90+j))
	}
	path := filepath.Join(d, "zoo.cfg")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestEnsembleConfig(t *testing.T) {
	path := writeEnsembleCfg(t, 2, 3, 2200, "2")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.MyID != 2 || len(c.Servers) != 3 || c.ClientAddr() != "127.0.0.1:2202" {
		t.Fatalf("MyID %d servers %v addr %s", c.MyID, c.Servers, c.ClientAddr())
	}
	if s := c.Servers[3]; s != (Server{Host: "127.0.0.1", PeerPort: 2283, ElectionPort: 2293, Role: RoleParticipant}) {
		t.Errorf("server.3 = %+v", s)
	}
	if !reflect.DeepEqual(c.FourLetterWhitelist, []string{"*"}) || c.MaxClientCnxns != 0 {
		t.Errorf("whitelist %v maxClientCnxns %d", c.FourLetterWhitelist, c.MaxClientCnxns)
	}
	if c.AdminEnabled || len(c.Extra) != 0 {
		t.Errorf("AdminEnabled %v Extra %v", c.AdminEnabled, c.Extra)
	}
}

func TestEnsembleMyIDProblems(t *testing.T) {
	if _, err := Load(writeEnsembleCfg(t, 1, 3, 2200, "")); err == nil || !strings.Contains(err.Error(), "myid") {
		t.Errorf("missing myid: %v", err)
	}
	if _, err := Load(writeEnsembleCfg(t, 1, 3, 2200, "one")); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad myid: %v", err)
	}
	if _, err := Load(writeEnsembleCfg(t, 1, 3, 2200, "9")); !errors.Is(err, ErrInvalid) {
		t.Errorf("myid not listed: %v", err)
	}
	// A standalone file needs no myid.
	if c, err := Load(writeEnsembleCfg(t, 1, 0, 2200, "")); err != nil || c.MyID != 0 {
		t.Errorf("standalone: %v, %+v", err, c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.cfg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load = %v, want ErrNotExist", err)
	}
}

func TestLimitKeys(t *testing.T) {
	c, err := Parse(strings.NewReader("dataDir=/d\npreAllocSize=4096\nzookeeper.globalOutstandingLimit=500\n" +
		"herd.maxQueuedBytes=1048576\nherd.maxOutboundBytes=65536\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.PreAllocSize != 4<<20 || c.GlobalOutstandingLimit != 500 || c.MaxQueuedBytes != 1<<20 || c.MaxOutboundBytes != 64<<10 {
		t.Fatalf("got %+v", c)
	}
	if _, err := Parse(strings.NewReader("dataDir=/d\nglobalOutstandingLimit=0\n")); err == nil ||
		!strings.Contains(err.Error(), "globalOutstandingLimit") {
		t.Fatalf("zero limit accepted: %v", err)
	}
}

func TestTwoServersOnOnePortRefused(t *testing.T) {
	for _, lines := range []string{
		"server.1=h:2888:3888\nserver.2=h:2888:3889",               // peer ports
		"server.1=h:2888:3888\nserver.2=h:2889:2888",               // one's peer port is the other's election port
		"server.1=h:2888:3888;h:2181\nserver.2=h:2889:3889;h:2181", // client ports
	} {
		_, err := Parse(strings.NewReader("dataDir=/d\ninitLimit=5\nsyncLimit=2\n" + lines + "\n"))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "server.2") {
			t.Errorf("%q: %v, want a refusal naming server.2", lines, err)
		}
	}
}

func TestSingleServerLineAndDynamicFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// One server line and standaloneEnabled (the default): standalone, no myid needed.
	c, err := Load(write("one.cfg", "dataDir="+dir+"\nserver.3=h:1:2\n"))
	if err != nil || c.Distributed() || c.MyID != 3 {
		t.Fatalf("single line: %v, distributed %v, myid %d", err, c != nil && c.Distributed(), c.MyID)
	}
	// The ensemble in a dynamic configuration file, as ZooKeeper 3.5+ writes it.
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("zoo.cfg.dynamic", "server.1=127.0.0.1:2881:3881:participant;2181\nserver.2=127.0.0.1:2882:3882;2182\nversion=100000000\n")
	c, err = Load(write("dyn.cfg", "dataDir="+dir+"\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\nsnapCount=5000\n"+
		"dynamicConfigFile=zoo.cfg.dynamic\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Distributed() || c.MyID != 2 || len(c.Servers) != 2 || !c.ReconfigEnabled || c.SnapCount != 5000 ||
		c.ClientAddr() != "0.0.0.0:2182" {
		t.Fatalf("dynamic file: %+v", c)
	}
	write("bad.dynamic", "tickTime=5\n")
	if _, err := Load(write("bad.cfg", "dataDir="+dir+"\ndynamicConfigFile=bad.dynamic\n")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a dynamic file with other keys: %v", err)
	}
}
