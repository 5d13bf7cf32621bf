package fsm_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/server/fsm"
	"github.com/herd-io/herd/server/proto"
)

// loadedFSM applies sessions session creations and znodes creates of
// 100-byte znodes (one in ten ephemeral) under 100 parents.
func loadedFSM(b *testing.B, sessions, znodes int) *fsm.FSM {
	b.Helper()
	f := newFSM(b, fsm.Hooks{})
	pw := bytes.Repeat([]byte{7}, 16)
	data := string(bytes.Repeat([]byte("v"), 100))
	idx := uint64(0)
	apply := func(e fsm.Entry) {
		idx++
		if res, ok := f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: e.Marshal()}).(*fsm.Result); ok && res.Err != 0 {
			b.Fatalf("entry %d: error %d", idx, res.Err)
		}
	}
	for s := 1; s <= sessions; s++ {
		apply(fsm.Entry{Type: fsm.EntryCreateSession, Time: t0, Session: int64(s), Passwd: pw, Timeout: 10000})
	}
	for p := 0; p < 100; p++ {
		apply(req(1, t0, proto.OpCreate, createReq("/p"+strconv.Itoa(p), "", proto.ModePersistent)))
	}
	for i := 0; i < znodes; i++ {
		mode, owner := proto.ModePersistent, int64(1)
		if i%10 == 0 {
			mode, owner = proto.ModeEphemeral, int64(1+i%sessions)
		}
		apply(req(owner, t0, proto.OpCreate, createReq("/p"+strconv.Itoa(i%100)+"/n"+strconv.Itoa(i), data, mode)))
	}
	return f
}

// BenchmarkSnapshotPersist100k encodes a state of 100k znodes and 1000
// sessions, as raft's snapshot does (clone under the lock, then Persist).
func BenchmarkSnapshotPersist100k(b *testing.B) {
	f := loadedFSM(b, 1000, 100_000)
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		size = len(snapshot(b, f))
	}
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkSnapshotRestore100k decodes that snapshot into a fresh FSM, as
// a restart or a follower catching up does.
func BenchmarkSnapshotRestore100k(b *testing.B) {
	snap := snapshot(b, loadedFSM(b, 1000, 100_000))
	f := newFSM(b, fsm.Hooks{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := restore(f, snap); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100_000), "ns/znode")
}
