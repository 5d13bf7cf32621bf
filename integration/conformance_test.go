package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herd-io/herd/internal/zkpeer"
	"github.com/herd-io/herd/server/proto"
)

// TestConformance runs every script against the reference ZooKeeper and each
// target and requires identical normalised outcomes, step by step.
func TestConformance(t *testing.T) {
	zkpeer.Require(t, zkpeer.Jar)
	opts := TargetOptions{ExtendedTypes: true}
	ref := reference(t, opts)
	// The scripts also run on a three-node herd cluster, clients spread over
	// its nodes.
	tgs := append(targets(t, opts), herdClusterTarget(t, opts))
	for _, sc := range conformanceScripts {
		t.Run(sc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			want := runScript(ctx, ref, sc)
			checkExpectations(t, sc, want)
			if testing.Verbose() {
				t.Logf("reference transcript:\n%s", transcript(sc, want))
			}
			for _, tg := range tgs {
				got := runScript(ctx, tg, sc)
				if d := diffResults(sc, want, got, tg.Cluster); d != "" {
					t.Errorf("%s diverges from ZooKeeper (! marks differing steps; left reference, right %s):\n%s", tg.Name, tg.Name, d)
				}
			}
		})
	}
}

// checkExpectations catches a script that no longer provokes what it was
// written for, so a change to a script cannot silently weaken it.
func checkExpectations(t *testing.T, sc script, res []result) {
	t.Helper()
	for i, st := range sc.steps {
		if st.expect != nil && res[i].code != int32(*st.expect) {
			t.Errorf("step %d (c%d %s) on the reference: %s; the script expects err=%d", i, st.client, st.desc, res[i].text, *st.expect)
		}
	}
}

// diffResults returns "" when both runs agree, otherwise the whole transcript
// with the differing steps marked.
// On a cluster, steps that show the membership are not compared.
func diffResults(sc script, want, got []result, cluster bool) string {
	var sb strings.Builder
	differ := false
	for i, st := range sc.steps {
		mark := " "
		if st.membership && cluster {
			mark = "~"
		} else if want[i].text != got[i].text {
			mark, differ = "!", true
		}
		fmt.Fprintf(&sb, "%s %2d c%d %s\n      %s\n", mark, i, st.client, st.desc, want[i].text)
		if mark == "!" {
			fmt.Fprintf(&sb, "    ≠ %s\n", got[i].text)
		}
	}
	if !differ {
		return ""
	}
	return sb.String()
}

// transcript prints one script run, a step per line.
func transcript(sc script, res []result) string {
	var sb strings.Builder
	for i, st := range sc.steps {
		fmt.Fprintf(&sb, "%2d c%d %s\n      %s\n", i, st.client, st.desc, res[i].text)
	}
	return sb.String()
}

// TestNormaliser shows that runs differing only in zxid offsets, session ids
// and times print the same, and that a real difference still shows.
func TestNormaliser(t *testing.T) {
	render := func(base, sess, clock int64, version int32) string {
		n := newNormaliser()
		s1 := proto.Stat{Czxid: base + 1, Mzxid: base + 3, Pzxid: base + 1, Ctime: clock, Mtime: clock + 5, Version: version, EphemeralOwner: sess}
		s2 := proto.Stat{Czxid: base + 3, Mzxid: base + 3, Pzxid: base + 7, Ctime: clock + 9, Mtime: clock + 9}
		return n.stat(s1) + " " + n.stat(s2) + " " + n.session(sess) + " " + n.zxid(base+7) + " " + n.zxid(-1)
	}
	a := render(100, 0x1234, 1_700_000_000_000, 1)
	b := render(5<<32, 0x7777, 1_800_000_000_000, 1)
	if a != b {
		t.Fatalf("equivalent runs normalise differently:\n%s\n%s", a, b)
	}
	if c := render(100, 0x1234, 1_700_000_000_000, 2); c == a {
		t.Fatalf("a version difference vanished in normalisation: %s", c)
	}
	n := newNormaliser()
	if got := n.stat(proto.Stat{}); !strings.Contains(got, "t=0") || !strings.Contains(got, "cz=0") {
		t.Fatalf("zero stat: %s", got)
	}
}

// TestConformanceDetectsDivergence is the harness's negative control: two
// ZooKeepers that really differ (TTL nodes on and off) must not compare equal.
func TestConformanceDetectsDivergence(t *testing.T) {
	zkpeer.Require(t, zkpeer.Jar)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var sc script
	for _, s := range conformanceScripts {
		if s.name == "containers and TTL nodes" {
			sc = s
		}
	}
	if sc.steps == nil {
		t.Fatal("script \"containers and TTL nodes\" not found")
	}
	on := runScript(ctx, reference(t, TargetOptions{ExtendedTypes: true}), sc)
	off := runScript(ctx, zookeeperTarget(t, TargetOptions{}), sc)
	if diffResults(sc, on, off, false) == "" {
		t.Fatal("TTL on and off compared equal")
	}
	for i, st := range sc.steps {
		if strings.HasPrefix(st.desc, "createTTL \"/ttl\" ") {
			if off[i].code != int32(proto.ErrUnimplemented) || on[i].code != 0 {
				t.Fatalf("createTTL: with TTL %s, without %s; want 0 and %d", on[i].text, off[i].text, proto.ErrUnimplemented)
			}
			return
		}
	}
	t.Fatal("no createTTL step in the script")
}
