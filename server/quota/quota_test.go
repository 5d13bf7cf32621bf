package quota

import (
	"errors"
	"testing"
)

func TestParseAndString(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "count=-1,bytes=-1",
		"count=5,bytes=-1":         "count=5,bytes=-1",
		"bytes=7;count=2":          "count=2,bytes=7",
		"countHardLimit=3,count=1": "count=1,bytes=-1=;countHardLimit=3",
		"count=-1,bytes=-1,countHardLimit=2,byteHardLimit=9": "count=-1,bytes=-1=;byteHardLimit=9;countHardLimit=2",
		"count==4,bytes=1,,": "count=-1,bytes=1",
		"count=1=2":          "count=1,bytes=-1",
	} {
		s, err := Parse([]byte(in))
		if err != nil || s.String() != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, s.String(), err, want)
		}
	}
	for _, bad := range []string{"count", "count=", "count=x", ",count=1"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrBadRecord) {
			t.Errorf("Parse(%q) = %v, want ErrBadRecord", bad, err)
		}
	}
	if LimitPath("/a/b") != "/zookeeper/quota/a/b/zookeeper_limits" || StatPath("/a") != "/zookeeper/quota/a/zookeeper_stats" {
		t.Error("paths")
	}
}

// FuzzParse: any data parses or fails cleanly, and what parses renders to a
// record that parses back to the same values.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "count=1,bytes=2", "count=2,bytes=10=;byteHardLimit=-1;countHardLimit=-1", "x==", ";;", "count=9223372036854775807"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		back, err := Parse(s.Data())
		if err != nil {
			t.Fatalf("%q rendered as %q, which does not parse: %v", data, s.String(), err)
		}
		for _, k := range []string{Count, Bytes, CountHardLimit, ByteHardLimit} {
			if back.Get(k) != s.Get(k) {
				t.Fatalf("%q: %s %d became %d through %q", data, k, s.Get(k), back.Get(k), s.String())
			}
		}
	})
}
