package shell

import (
	"errors"
	"reflect"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

func TestSplitLineHandlesQuotes(t *testing.T) {
	got := splitLine(`  set /A "hello world"  'it''s' x`)
	want := []string{"set", "/A", "hello world", "it", "s", "x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestParseFlagsAnywhereAndBundled(t *testing.T) {
	in, err := parseFlags([]string{"/p", "-sw", "-v3", "x", "-b", "9"}, "sw", "vb")
	if err != nil {
		t.Fatal(err)
	}
	if !in.has('s') || !in.has('w') || in.flags['v'] != "3" || in.flags['b'] != "9" || !reflect.DeepEqual(in.args, []string{"/p", "x"}) {
		t.Fatalf("%+v", in)
	}
	if _, err := parseFlags([]string{"-v"}, "", "v"); !errors.Is(err, errUsage) {
		t.Fatalf("missing value: %v", err)
	}
}

func TestParseACL(t *testing.T) {
	acl, err := parseACL("digest:u:h=:rwcda,ip:::1:r")
	if err != nil {
		t.Fatal(err)
	}
	want := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "u:h="}}, {Perms: proto.PermRead, ID: proto.Id{Scheme: "ip", ID: "::1"}}}
	if !reflect.DeepEqual(acl, want) {
		t.Fatalf("got %+v", acl)
	}
	if _, err := parseACL("world:anyone:rx"); !errors.Is(err, errBadACL) {
		t.Fatalf("bad perm: %v", err)
	}
	if permString(proto.PermAll) != "cdrwa" || permString(proto.PermRead|proto.PermAdmin) != "ra" {
		t.Fatal("permString")
	}
}

func TestParseArgs(t *testing.T) {
	cfg, err := parseArgs([]string{"-server", "h:1,h:2", "-o", "json", "set", "/A", "two words"}, new(discard))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.servers != "h:1,h:2" || !cfg.jsonOut || cfg.command != "set /A 'two words'" || cfg.dialOpts.SessionTimeoutMs != 30000 {
		t.Fatalf("%+v", cfg)
	}
	if _, err := parseArgs([]string{"-o", "xml"}, new(discard)); err == nil {
		t.Fatal("-o xml accepted")
	}
}

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }
