package fsm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/raft"

	"github.com/herd-io/herd/server/tree"
)

// Snapshot formats: 1 has no session owners and no time; 2 adds both. Both
// are read; 2 is written.
var (
	snapshotMagicV1 = [8]byte{'H', 'E', 'R', 'D', 'S', 'N', 'P', '1'}
	snapshotMagic   = [8]byte{'H', 'E', 'R', 'D', 'S', 'N', 'P', '2'}
)

// ErrBadSnapshot reports a snapshot that is not one of ours or is damaged.
var ErrBadSnapshot = errors.New("fsm: bad snapshot")

// frozenState is a point-in-time copy of the state; Persist encodes it.
type frozenState struct {
	zxid     int64
	lastTime int64
	sessions map[int64]*Session
	// Taken by Snapshot, the tree to write; read by readSnapshot, the tree.
	frozen *tree.Frozen
	tree   *tree.Tree
}

func (s *frozenState) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("fsm: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *frozenState) Release() {}

func writeSnapshot(w io.Writer, s *frozenState) error {
	bw := bufio.NewWriter(w)
	bw.Write(snapshotMagic[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(s.zxid))
	bw.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(s.lastTime))
	bw.Write(n[:])
	ids := make([]int64, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	binary.BigEndian.PutUint32(n[:4], uint32(len(ids)))
	bw.Write(n[:4])
	for _, id := range ids {
		ss := s.sessions[id]
		binary.BigEndian.PutUint64(n[:], uint64(ss.ID))
		bw.Write(n[:])
		binary.BigEndian.PutUint32(n[:4], uint32(ss.Timeout))
		bw.Write(n[:4])
		binary.BigEndian.PutUint32(n[:4], uint32(ss.Owner))
		bw.Write(n[:4])
		binary.BigEndian.PutUint32(n[:4], uint32(len(ss.Passwd)))
		bw.Write(n[:4])
		bw.Write(ss.Passwd)
	}
	var err error
	if s.frozen != nil {
		err = s.frozen.WriteSnapshot(bw)
	} else {
		err = s.tree.WriteSnapshot(bw)
	}
	if err != nil {
		return fmt.Errorf("fsm: write tree: %w", err)
	}
	return bw.Flush()
}

func readSnapshot(r io.Reader, opts tree.Options) (*frozenState, error) {
	br := bufio.NewReader(r)
	var magic [8]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil || (magic != snapshotMagic && magic != snapshotMagicV1) {
		return nil, fmt.Errorf("%w: no header", ErrBadSnapshot)
	}
	v2 := magic == snapshotMagic
	var zxid, lastTime int64
	if err := binary.Read(br, binary.BigEndian, &zxid); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if v2 {
		if err := binary.Read(br, binary.BigEndian, &lastTime); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
	}
	var count uint32
	if err := binary.Read(br, binary.BigEndian, &count); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	sessions := make(map[int64]*Session, min(int(count), 1<<16))
	for i := uint32(0); i < count; i++ {
		var rec struct {
			ID      int64
			Timeout int32
		}
		var owner int32
		var pwLen uint32
		err := binary.Read(br, binary.BigEndian, &rec)
		if err == nil && v2 {
			err = binary.Read(br, binary.BigEndian, &owner)
		}
		if err == nil {
			err = binary.Read(br, binary.BigEndian, &pwLen)
		}
		if err != nil || pwLen > 64 {
			return nil, fmt.Errorf("%w: session %d", ErrBadSnapshot, i)
		}
		pw := make([]byte, pwLen)
		if _, err := io.ReadFull(br, pw); err != nil {
			return nil, fmt.Errorf("%w: session %d: %v", ErrBadSnapshot, i, err)
		}
		sessions[rec.ID] = &Session{ID: rec.ID, Timeout: rec.Timeout, Owner: owner, Passwd: pw}
	}
	t, err := tree.ReadSnapshot(br)
	if err != nil {
		return nil, fmt.Errorf("%w: tree: %w", ErrBadSnapshot, err)
	}
	// The tree reads exactly its own bytes from br: anything after it means
	// the snapshot is not what we wrote.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the tree", ErrBadSnapshot)
	}
	t.SetOptions(opts)
	return &frozenState{zxid: zxid, lastTime: lastTime, sessions: sessions, tree: t}, nil
}
