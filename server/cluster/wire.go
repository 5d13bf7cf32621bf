package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// herd's peer messages, on the election port after the handshake. Each is a
// frame: length (uint32, of what follows), type, body.
//
//	propose  follower → leader  seq, incarnation, term, entry
//	placed   leader → follower  seq, index, status, text   (in proposal order)
//	call     either way         id, method, body
//	reply    either way         id, status, text, body
//	commit   leader → follower  term, index, term of the entry (commit.go)
//	entries  leader → follower  term, previous index and term, entries (presend.go)
//	stored   follower → leader  term, last index of a batch of entries, stored (aheadanswer.go)
const (
	msgPropose byte = 1
	msgPlaced  byte = 2
	msgCall    byte = 3
	msgReply   byte = 4
	msgCommit  byte = 5
	msgEntries byte = 6
	msgStored  byte = 7
)

// Statuses of placed and reply.
const (
	statusOK        byte = 0
	statusNotLeader byte = 1
	statusUnknown   byte = 2
	statusError     byte = 3
)

// maxFrame bounds a peer message; an entry is at most jute.maxbuffer plus a
// little, and herd allows raising jute.maxbuffer.
const maxFrame = 256 << 20

var errFrameTooLarge = errors.New("cluster: peer frame too large")

func statusOf(err error) (byte, string) {
	switch {
	case err == nil:
		return statusOK, ""
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrNoLeader):
		return statusNotLeader, err.Error()
	case errors.Is(err, ErrOutcomeUnknown):
		return statusUnknown, err.Error()
	}
	return statusError, err.Error()
}

func errorOf(status byte, text string) error {
	switch status {
	case statusOK:
		return nil
	case statusNotLeader:
		return fmt.Errorf("%w: %s", ErrNotLeader, text)
	case statusUnknown:
		return fmt.Errorf("%w: %s", ErrOutcomeUnknown, text)
	}
	return errors.New(text)
}

// frame builds one message: newFrame(type).u64(...)...done().
type frame []byte

func newFrame(typ byte) frame { return frame{0, 0, 0, 0, typ} }

func (f frame) u64(v uint64) frame { return binary.BigEndian.AppendUint64(f, v) }
func (f frame) u8(v byte) frame    { return append(f, v) }
func (f frame) bytes(b []byte) frame {
	return append(binary.BigEndian.AppendUint32(f, uint32(len(b))), b...)
}
func (f frame) str(s string) frame { return f.bytes([]byte(s)) }

// done fills in the length and returns the encoded frame.
func (f frame) done() []byte {
	binary.BigEndian.PutUint32(f[:4], uint32(len(f)-4))
	return f
}

// reader decodes one message body; errors stick.
type reader struct {
	b   []byte
	err error
}

func (r *reader) u64() uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) u8() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bytes() []byte {
	if r.err != nil || len(r.b) < 4 {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	n := binary.BigEndian.Uint32(r.b)
	if uint64(n) > uint64(len(r.b)-4) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	v := r.b[4 : 4+n]
	r.b = r.b[4+n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

// peerConn is one herd peer connection: a reader on the caller's goroutine
// and a writer goroutine that batches queued frames into few syscalls.
type peerConn struct {
	c       net.Conn
	peer    int
	follows atomic.Bool // the peer asked for commit messages (methodFollow)
	// wantsEntries: the peer asked for entries ahead of the leader's log
	// write (methodFollowEntries).
	wantsEntries atomic.Bool
	// answers: the peer answers the batches sent to it ahead
	// (aheadanswer.go).
	answers atomic.Bool
	br      *bufio.Reader
	out     chan []byte
	done    chan struct{}
	once    sync.Once
}

func (n *Node) newPeerConn(c net.Conn, peer int) *peerConn {
	pc := &peerConn{c: c, peer: peer, br: bufio.NewReaderSize(c, 64<<10),
		out: make(chan []byte, 4096), done: make(chan struct{})}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		pc.write()
	}()
	return pc
}

func (pc *peerConn) write() {
	bw := bufio.NewWriterSize(pc.c, 64<<10)
	for {
		select {
		case f := <-pc.out:
			if _, err := bw.Write(f); err != nil {
				pc.close()
				return
			}
			if len(pc.out) == 0 {
				if err := bw.Flush(); err != nil {
					pc.close()
					return
				}
			}
		case <-pc.done:
			return
		}
	}
}

// send queues a frame; false once the connection is closed.
func (pc *peerConn) send(f []byte) bool {
	select {
	case pc.out <- f:
		return true
	case <-pc.done:
		return false
	}
}

// trySend queues a frame unless the queue is full or the connection closed.
func (pc *peerConn) trySend(f []byte) bool {
	select {
	case <-pc.done:
		return false
	default:
	}
	select {
	case pc.out <- f:
		return true
	default:
		return false
	}
}

// read returns the next message.
func (pc *peerConn) read() (byte, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(pc.br, head[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[:4])
	if n < 1 || n > maxFrame {
		return 0, nil, errFrameTooLarge
	}
	body := make([]byte, n-1)
	if _, err := io.ReadFull(pc.br, body); err != nil {
		return 0, nil, err
	}
	return head[4], body, nil
}

func (pc *peerConn) close() {
	pc.once.Do(func() {
		close(pc.done)
		pc.c.Close()
	})
}

func newBufReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 4<<10) }
