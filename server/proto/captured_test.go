package proto

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readSeed parses one corpus file holding a single []byte argument.
func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("%s: not a one-argument corpus file", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// TestCapturedClientPackets decodes every request that go-zookeeper, kazoo and
// zkCli sent to Apache ZooKeeper (captured by TestCaptureSeeds): each must
// decode without error and consume its body exactly, which pins our layouts
// to what real clients write.
func TestCapturedClientPackets(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeRequest", "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		client, _, _ := strings.Cut(name, "-")
		if client == "live" || strings.Count(name, "-") < 2 {
			continue // our own encodings or fuzzer finds, not captures
		}
		data := readSeed(t, path)
		if strings.Contains(name, "-connect-") {
			var cr ConnectRequest
			d := NewDecoder(data, 0)
			cr.Decode(d)
			want := 45 // Java and kazoo send readOnly
			if client == "gozk" {
				want = 44
			}
			if d.Err() != nil || d.Remaining() != 0 || len(data) != want || cr.HasReadOnly != (want == 45) || len(cr.Passwd) != 16 {
				t.Errorf("%s: %d bytes, %+v, err %v", name, len(data), cr, d.Err())
			}
			continue
		}
		var hdr RequestHeader
		d := NewDecoder(data, 0)
		hdr.Decode(d)
		rec, ok := NewRequest(hdr.Op)
		if !ok {
			if !HasNoBody(hdr.Op) || d.Remaining() != 0 {
				t.Errorf("%s: op %v with %d body bytes", name, hdr.Op, d.Remaining())
			}
			seen[client+" "+hdr.Op.String()] = true
			continue
		}
		rec.Decode(d)
		if d.Err() != nil || d.Remaining() != 0 {
			t.Errorf("%s: err %v, %d bytes left", name, d.Err(), d.Remaining())
			continue
		}
		seen[client+" "+hdr.Op.String()] = true
		// Our encoder reproduces the client's bytes exactly, except that
		// kazoo writes "" as a null string (-1) where we write 0.
		if again := encode(rec); !bytes.Equal(again, data[8:]) && client != "kazoo" {
			t.Errorf("%s: re-encoded\n%x\nclient sent\n%x", name, again, data[8:])
		}
	}
	for _, want := range []string{"gozk create", "gozk multi", "gozk setWatches", "gozk createTTL", "kazoo create", "kazoo multi",
		"zkcli addWatch", "zkcli whoAmI", "zkcli getAllChildrenNumber", "zkcli createContainer", "zkcli removeWatches"} {
		if !seen[want] {
			t.Errorf("no captured %s packet", want)
		}
	}
}

// TestKazooCapturedNullString checks the real kazoo packet for an ACL with
// scheme "auth": its empty id is sent as length -1 and must decode as "".
func TestKazooCapturedNullString(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeRequest", "kazoo-create-*"))
	found := false
	for _, path := range files {
		data := readSeed(t, path)
		if !bytes.Contains(data, []byte("auth\xff\xff\xff\xff")) {
			continue
		}
		found = true
		rec, err := DecodeRequest(OpCreate, data[8:], 0)
		if err != nil {
			t.Fatal(err)
		}
		if acl := rec.(*CreateRequest).ACL; len(acl) != 1 || acl[0].ID != (Id{Scheme: "auth", ID: ""}) {
			t.Fatalf("ACL %+v", acl)
		}
	}
	if !found {
		t.Fatal("no captured kazoo create with a null ACL id")
	}
}
