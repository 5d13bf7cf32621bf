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
