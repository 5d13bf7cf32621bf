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

var snapshotMagic = [8]byte{'H', 'E', 'R', 'D', 'S', 'N', 'P', '1'}

// ErrBadSnapshot reports a snapshot that is not one of ours or is damaged.
var ErrBadSnapshot = errors.New("fsm: bad snapshot")

// frozenState is a point-in-time copy of the state; Persist encodes it.
type frozenState struct {
	zxid     int64
	sessions map[int64]*Session
	tree     *tree.Tree
}

func (s *frozenState) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.zxid, s.sessions, s.tree); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("fsm: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *frozenState) Release() {}

func writeSnapshot(w io.Writer, zxid int64, sessions map[int64]*Session, t *tree.Tree) error {
	bw := bufio.NewWriter(w)
	bw.Write(snapshotMagic[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(zxid))
	bw.Write(n[:])
	ids := make([]int64, 0, len(sessions))
	for id := range sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	binary.BigEndian.PutUint32(n[:4], uint32(len(ids)))
	bw.Write(n[:4])
	for _, id := range ids {
		s := sessions[id]
		binary.BigEndian.PutUint64(n[:], uint64(s.ID))
		bw.Write(n[:])
		binary.BigEndian.PutUint32(n[:4], uint32(s.Timeout))
		bw.Write(n[:4])
		binary.BigEndian.PutUint32(n[:4], uint32(len(s.Passwd)))
		bw.Write(n[:4])
		bw.Write(s.Passwd)
	}
	if err := t.WriteSnapshot(bw); err != nil {
		return fmt.Errorf("fsm: write tree: %w", err)
	}
	return bw.Flush()
}

func readSnapshot(r io.Reader, extended bool) (int64, map[int64]*Session, *tree.Tree, error) {
	br := bufio.NewReader(r)
	var magic [8]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil || magic != snapshotMagic {
		return 0, nil, nil, fmt.Errorf("%w: no header", ErrBadSnapshot)
	}
	var hdr struct {
		Zxid  int64
		Count uint32
	}
	if err := binary.Read(br, binary.BigEndian, &hdr); err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	sessions := make(map[int64]*Session, min(int(hdr.Count), 1<<16))
	for i := uint32(0); i < hdr.Count; i++ {
		var rec struct {
			ID      int64
			Timeout int32
			PwLen   uint32
		}
		if err := binary.Read(br, binary.BigEndian, &rec); err != nil || rec.PwLen > 64 {
			return 0, nil, nil, fmt.Errorf("%w: session %d", ErrBadSnapshot, i)
		}
		pw := make([]byte, rec.PwLen)
		if _, err := io.ReadFull(br, pw); err != nil {
			return 0, nil, nil, fmt.Errorf("%w: session %d: %v", ErrBadSnapshot, i, err)
		}
		sessions[rec.ID] = &Session{ID: rec.ID, Timeout: rec.Timeout, Passwd: pw}
	}
	t, err := tree.ReadSnapshot(br)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: tree: %w", ErrBadSnapshot, err)
	}
	// The tree reads exactly its own bytes from br: anything after it means
	// the snapshot is not what we wrote.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return 0, nil, nil, fmt.Errorf("%w: data after the tree", ErrBadSnapshot)
	}
	t.SetOptions(tree.Options{ExtendedTypes: extended})
	return hdr.Zxid, sessions, t, nil
}
