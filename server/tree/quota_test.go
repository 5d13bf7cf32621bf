package tree

import (
	"bytes"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// setQuota makes the nodes zkCli's setquota makes for path: the quota
// directory, the limits record and a stats node the server fills in.
func setQuota(t *testing.T, tr *Tree, ck *clock, path, limits string) {
	t.Helper()
	dir := ""
	for _, part := range splitPath(path) {
		dir += "/" + part
		if _, ok := tr.Stat(quotaPath + dir); !ok {
			if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, quotaPath+dir, nil, open, 0, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, quotaPath+dir+"/zookeeper_limits", []byte(limits), open, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, quotaPath+dir+"/zookeeper_stats", []byte("count=0,bytes=0"), open, 0, 0); err != nil {
		t.Fatal(err)
	}
}

func splitPath(p string) []string {
	var out []string
	start := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

func quotaStats(t *testing.T, tr *Tree, path string) string {
	t.Helper()
	d, _, err := tr.GetData(anyone, quotaPath+path+"/zookeeper_stats")
	if err != nil {
		t.Fatal(err)
	}
	return string(d)
}

// TestQuotaStatsFollowWrites: the stats node starts at the subtree's real
// usage (whatever the creator wrote) and follows create, setData, delete,
// session close and multi (rolled back too), without a version bump.
func TestQuotaStatsFollowWrites(t *testing.T) {
	tr, ck := New(), &clock{}
	mustCreate(t, tr, ck, anyone, "/a", 0) // data "d"
	mustCreate(t, tr, ck, anyone, "/a/b", 0)
	mustCreate(t, tr, ck, anyone, "/other", 0)
	setQuota(t, tr, ck, "/a", "count=10,bytes=-1")
	if got := quotaStats(t, tr, "/a"); got != "count=2,bytes=2" {
		t.Fatalf("initial stats %q, want the real usage count=2,bytes=2", got)
	}
	mustCreate(t, tr, ck, anyone, "/a/b/c", 0)
	mustCreate(t, tr, ck, anyone, "/other/x", 0) // outside: no change
	if _, err := tr.SetData(ck.next(), anyone, "/a/b", []byte("12345"), -1); err != nil {
		t.Fatal(err)
	}
	if got := quotaStats(t, tr, "/a"); got != "count=3,bytes=7" {
		t.Fatalf("after create+setData %q, want count=3,bytes=7", got)
	}
	eph := Caller{Session: 9, Ids: anyone.Ids}
	if _, _, err := tr.Create(ck.next(), eph, proto.OpCreate, "/a/e", []byte("xy"), open, proto.ModeEphemeral, 0); err != nil {
		t.Fatal(err)
	}
	if got := quotaStats(t, tr, "/a"); got != "count=4,bytes=9" {
		t.Fatalf("after ephemeral %q", got)
	}
	tr.CloseSession(ck.next(), 9)
	if err := tr.Delete(ck.next(), anyone, "/a/b/c", -1); err != nil {
		t.Fatal(err)
	}
	if got := quotaStats(t, tr, "/a"); got != "count=2,bytes=6" {
		t.Fatalf("after deletes %q, want count=2,bytes=6", got)
	}
	// A multi that fails leaves the stats as they were.
	res := tr.Multi(ck.next(), anyone, []proto.MultiOp{createOp(proto.OpCreate, "/a/m", 0), deleteOp("/a/nope", -1)})
	if res[1].Err != proto.ErrNoNode || quotaStats(t, tr, "/a") != "count=2,bytes=6" {
		t.Fatalf("rolled-back multi: %+v, stats %q", res, quotaStats(t, tr, "/a"))
	}
	res = tr.Multi(ck.next(), anyone, []proto.MultiOp{createOp(proto.OpCreate, "/a/m", 0), setOp("/a/m", 0)})
	if res[0].Err != proto.ErrOK || quotaStats(t, tr, "/a") != "count=3,bytes=7" {
		t.Fatalf("multi: %+v, stats %q", res, quotaStats(t, tr, "/a"))
	}
	if st := mustStat(t, tr, quotaPath+"/a/zookeeper_stats"); st.Version != 0 {
		t.Errorf("stats node version %d, want 0 (updated in place)", st.Version)
	}
	// The deepest quota wins; its parent's stats stop moving for its subtree.
	setQuota(t, tr, ck, "/a/b", "count=-1,bytes=100")
	mustCreate(t, tr, ck, anyone, "/a/b/deep", 0)
	if a, b := quotaStats(t, tr, "/a"), quotaStats(t, tr, "/a/b"); a != "count=3,bytes=7" || b != "count=2,bytes=6" {
		t.Errorf("nested: /a %q, /a/b %q", a, b)
	}
	// Without the limits node there is no quota.
	if err := tr.Delete(ck.next(), anyone, quotaPath+"/a/b/zookeeper_limits", -1); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, tr, ck, anyone, "/a/b/deeper", 0)
	if a := quotaStats(t, tr, "/a"); a != "count=4,bytes=8" {
		t.Errorf("after the nested limits went: /a %q", a)
	}
	// Stats survive a snapshot byte for byte, and a clone is independent.
	tr2 := roundTrip(t, tr)
	if quotaStats(t, tr2, "/a") != "count=4,bytes=8" {
		t.Errorf("after snapshot: %q", quotaStats(t, tr2, "/a"))
	}
	c := tr.Clone()
	mustCreate(t, tr, ck, anyone, "/a/after-clone", 0)
	if quotaStats(t, c, "/a") != "count=4,bytes=8" || quotaStats(t, tr, "/a") != "count=5,bytes=9" {
		t.Errorf("clone %q, original %q", quotaStats(t, c, "/a"), quotaStats(t, tr, "/a"))
	}
}

func roundTrip(t *testing.T, tr *Tree) *Tree {
	t.Helper()
	b := snapshotBytes(t, tr)
	out, err := ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestQuotaLimits: soft limits are reported and never refuse; hard limits
// refuse with QuotaExceeded only when enforced; deletes always pass; the
// quota check comes before the version check, as in ZooKeeper.
func TestQuotaLimits(t *testing.T) {
	var seen []QuotaExceeded
	for _, enforce := range []bool{false, true} {
		seen = nil
		tr, ck := NewWithOptions(Options{EnforceQuota: enforce, QuotaExceeded: func(q QuotaExceeded) { seen = append(seen, q) }}), &clock{}
		mustCreate(t, tr, ck, anyone, "/soft", 0)
		mustCreate(t, tr, ck, anyone, "/hard", 0)
		setQuota(t, tr, ck, "/soft", "count=2,bytes=3")
		setQuota(t, tr, ck, "/hard", "count=-1,bytes=-1,byteHardLimit=4,countHardLimit=2")
		mustCreate(t, tr, ck, anyone, "/soft/1", 0)
		mustCreate(t, tr, ck, anyone, "/soft/2", 0) // count 3 > 2, bytes 3: soft, logged only
		if len(seen) != 1 || seen[0].String() != "Quota exceeded: /soft [current count=3, softCountLimit=2]" || seen[0].Refused {
			t.Fatalf("enforce=%v: soft report %+v", enforce, seen)
		}
		mustCreate(t, tr, ck, anyone, "/hard/1", 0) // count 2, bytes 2
		_, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, "/hard/2", nil, open, 0, 0)
		want := proto.ErrOK
		if enforce {
			want = proto.ErrQuotaExceeded
		}
		wantCode(t, "create over the hard count", err, want)
		last := seen[len(seen)-1]
		if last.String() != "Quota exceeded: /hard [current count=3, hardCountLimit=2]" || last.Refused != enforce {
			t.Fatalf("enforce=%v: hard report %+v", enforce, last)
		}
		// Bytes: 2 now; +3 is over 4. The version is wrong too, but quota is checked first.
		_, err = tr.SetData(ck.next(), anyone, "/hard/1", []byte("dddd"), 7)
		if enforce {
			wantCode(t, "setData over the hard bytes", err, proto.ErrQuotaExceeded)
			if got := seen[len(seen)-1].String(); got != "Quota exceeded: /hard [current bytes=5, hardByteLimit=4]" {
				t.Errorf("bytes report %q", got)
			}
		} else {
			wantCode(t, "setData with a bad version", err, proto.ErrBadVersion)
		}
		if err := tr.Delete(ck.next(), anyone, "/hard/1", -1); err != nil {
			t.Errorf("enforce=%v: delete refused: %v", enforce, err)
		}
		// A multi refused by a hard quota rolls back whole.
		if enforce {
			res := tr.Multi(ck.next(), anyone, []proto.MultiOp{createOp(proto.OpCreate, "/hard/x", 0), createOp(proto.OpCreate, "/hard/y", 0)})
			if res[1].Err != proto.ErrQuotaExceeded || quotaStats(t, tr, "/hard") != "count=1,bytes=1" {
				t.Errorf("multi over the hard quota: %+v, stats %q", res, quotaStats(t, tr, "/hard"))
			}
		}
	}
}

// BenchmarkSetDataUnderQuota is BenchmarkSetData's write under a quota'd
// path three levels up: the ancestor scan and the stats rewrite per write.
func BenchmarkSetDataUnderQuota(b *testing.B) {
	tr, ck := New(), &clock{}
	for _, p := range []string{"/q", "/q/a", "/q/a/b", "/zookeeper/quota/q"} {
		if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, p, nil, open, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []struct{ p, d string }{{"/zookeeper/quota/q/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=1000"}, {"/zookeeper/quota/q/zookeeper_stats", ""}} {
		if _, _, err := tr.Create(ck.next(), anyone, proto.OpCreate, n.p, []byte(n.d), open, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
	data := []byte("0123456789")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.SetData(ck.next(), anyone, "/q/a/b", data, -1); err != nil {
			b.Fatal(err)
		}
		tr.TakeEvents()
	}
}
