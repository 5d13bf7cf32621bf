package cluster

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

// recordingFSM is a BatchingFSM that remembers what it was given.
type recordingFSM struct {
	applied  [][]byte
	configs  int
	restored []byte
	state    []byte
}

func (r *recordingFSM) Apply(l *raft.Log) interface{} { return r.ApplyBatch([]*raft.Log{l})[0] }

func (r *recordingFSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	for i, l := range logs {
		switch l.Type {
		case raft.LogCommand:
			r.applied = append(r.applied, l.Data)
			out[i] = "result:" + string(l.Data)
		case raft.LogConfiguration:
			r.configs++
		}
	}
	return out
}

func (r *recordingFSM) Snapshot() (raft.FSMSnapshot, error) { return bytesSnapshot(r.state), nil }

func (r *recordingFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	r.restored = b
	return err
}

type bytesSnapshot []byte

func (b bytesSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(b); err != nil {
		return err
	}
	return sink.Close()
}
func (bytesSnapshot) Release() {}

type memSink struct{ bytes.Buffer }

func (*memSink) ID() string    { return "mem" }
func (*memSink) Cancel() error { return nil }
func (*memSink) Close() error  { return nil }

func TestEnvelopeRoundTrip(t *testing.T) {
	e := envelope{kind: kindEntry, node: 3, incarnation: 0xdeadbeef, seq: 1 << 40, term: 7, payload: []byte("body")}
	got, ok, err := decodeEnvelope(e.encode())
	if !ok || err != nil {
		t.Fatalf("decode: ok=%v err=%v", ok, err)
	}
	if got.kind != e.kind || got.node != e.node || got.incarnation != e.incarnation || got.seq != e.seq ||
		got.term != e.term || string(got.payload) != "body" {
		t.Fatalf("got %+v, want %+v", got, e)
	}
	// A state-machine entry from before envelopes starts with its version word.
	if _, ok, _ := decodeEnvelope([]byte{0, 0, 0, 1, 9}); ok {
		t.Fatal("a legacy entry was taken for an envelope")
	}
	for n := 2; n < len(e.encode()); n++ {
		if _, ok, err := decodeEnvelope(e.encode()[:n]); ok && err == nil && n < len(e.encode())-len("body") {
			t.Fatalf("truncated envelope (%d bytes) decoded", n)
		}
	}
}

func TestAppliedFSMStripsEnvelopesAndDropsStaleTerms(t *testing.T) {
	inner := &recordingFSM{}
	f := newAppliedFSM(inner, 1, 42)
	mine := &Proposal{done: make(chan struct{})}
	if err := f.register(5, mine); err != nil {
		t.Fatal(err)
	}
	stale := &Proposal{done: make(chan struct{})}
	if err := f.register(6, stale); err != nil {
		t.Fatal(err)
	}
	logs := []*raft.Log{
		{Index: 10, Term: 2, Type: raft.LogCommand, Data: []byte{0, 0, 0, 1}}, // legacy
		{Index: 11, Term: 2, Type: raft.LogCommand, Data: envelope{kind: kindMarker, node: 2, term: 2}.encode()},
		{Index: 12, Term: 2, Type: raft.LogCommand, Data: envelope{kind: kindEntry, node: 1, incarnation: 42, seq: 5, term: 2, payload: []byte("a")}.encode()},
		{Index: 13, Term: 3, Type: raft.LogCommand, Data: envelope{kind: kindEntry, node: 1, incarnation: 42, seq: 6, term: 2, payload: []byte("b")}.encode()},
		{Index: 14, Term: 3, Type: raft.LogConfiguration, Data: raft.EncodeConfiguration(raft.Configuration{})},
		{Index: 15, Term: 3, Type: raft.LogCommand, Data: envelope{kind: kindEntry, node: 1, incarnation: 7, seq: 5, term: 3, payload: []byte("c")}.encode()},
	}
	out := f.ApplyBatch(logs)
	if len(inner.applied) != 3 || string(inner.applied[1]) != "a" || string(inner.applied[2]) != "c" || inner.configs != 1 {
		t.Fatalf("inner saw %q and %d configurations", inner.applied, inner.configs)
	}
	if _, ok := out[3].(dropped); !ok {
		t.Fatalf("entry of term 2 appended in term 3 applied: %v", out[3])
	}
	res, err := mine.Wait()
	if err != nil || res.Index != 12 || res.Response != "result:a" {
		t.Fatalf("own proposal: %+v, %v", res, err)
	}
	if _, err := stale.Wait(); !errors.Is(err, ErrStaleTerm) {
		t.Fatalf("stale proposal: %v", err)
	}
	if f.appliedIndex() != 15 {
		t.Fatalf("applied %d, want 15", f.appliedIndex())
	}
}

func TestAppliedFSMSnapshotKeepsIndex(t *testing.T) {
	inner := &recordingFSM{state: []byte("tree")}
	f := newAppliedFSM(inner, 1, 1)
	f.ApplyBatch([]*raft.Log{{Index: 77, Term: 1, Type: raft.LogCommand, Data: []byte{0, 0, 0, 1}}})
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}

	// A follower whose forwarded entry at index 70 arrives inside the snapshot
	// cannot know its result.
	other := &recordingFSM{}
	g := newAppliedFSM(other, 2, 2)
	p := &Proposal{done: make(chan struct{})}
	_ = g.register(1, p)
	g.placed(1, 70)
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if string(other.restored) != "tree" || g.appliedIndex() != 77 {
		t.Fatalf("restored %q at %d", other.restored, g.appliedIndex())
	}
	if _, err := p.Wait(); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("proposal inside the snapshot: %v", err)
	}

	// A snapshot written before the header existed is the state machine's alone.
	legacy := &recordingFSM{}
	h := newAppliedFSM(legacy, 3, 3)
	if err := h.Restore(io.NopCloser(bytes.NewReader([]byte("HERDSNP1 old bytes")))); err != nil {
		t.Fatal(err)
	}
	if string(legacy.restored) != "HERDSNP1 old bytes" {
		t.Fatalf("legacy snapshot restored as %q", legacy.restored)
	}
}
