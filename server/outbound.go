package server

import (
	"io"
	"sync"
)

// spareMax is the largest written buffer kept for reuse: larger ones would
// sit outside the memory budget on every idle connection.
const spareMax = 64 << 10

// outbound is a connection's ordered stream of encoded frames. Responses and
// watch notifications are appended by different goroutines; the writer takes
// whatever has accumulated and sends it in one syscall, unless the responder
// reserved the idle stream to write a reply itself (reserve).
type outbound struct {
	mu       sync.Mutex
	cond     chan struct{} // signalled (non-blocking) when data arrives
	buf      []byte
	spare    []byte
	closing  bool // flush what is queued, then close
	shutdown bool
	writing  bool // a Write is under way (the writer's, or an inline send's)

	// acct is charged for every byte from push until written or dropped;
	// held is how many that is.
	acct *account
	held int
}

func (o *outbound) init(acct *account) {
	o.cond = make(chan struct{}, 1)
	o.acct = acct
}

// push appends frame. limit, if positive, is the most the queue may hold with
// frame: over it push refuses (a slow consumer). Responses pass no limit:
// the responder waits for room before producing them. push returns false
// when refused or closed.
func (o *outbound) push(frame []byte, limit int) bool {
	o.mu.Lock()
	if o.shutdown || o.closing {
		ok := !o.shutdown // read under the lock: close writes it
		o.mu.Unlock()
		return ok
	}
	if limit > 0 && o.held+len(frame) > limit {
		o.mu.Unlock()
		return false
	}
	o.buf = append(o.buf, frame...)
	o.held += len(frame)
	o.acct.queued(len(frame))
	o.mu.Unlock()
	o.signal()
	return true
}

func (o *outbound) signal() {
	select {
	case o.cond <- struct{}{}:
	default:
	}
}

// closeAfterFlush asks the writer to close the connection once everything
// queued so far is written.
func (o *outbound) closeAfterFlush() {
	o.mu.Lock()
	o.closing = true
	o.mu.Unlock()
	o.signal()
}

func (o *outbound) close() {
	o.mu.Lock()
	o.shutdown = true
	// Whatever is still queued or being written is dropped.
	o.acct.queued(-o.held)
	o.held = 0
	o.mu.Unlock()
	o.signal()
}

// reserve claims the stream for an inline write of an n-byte frame by the
// caller (see writeReserved), saving the hop to the writer goroutine (20-35µs
// of a one-client create's 290µs at p50; reads measured no faster). It
// succeeds only when nothing is queued and no write is under way; frames
// pushed after it wait until the reserved one is written, so the stream's
// order is the order of reserve and push calls.
func (o *outbound) reserve(n int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.shutdown || o.closing || o.writing || len(o.buf) > 0 {
		return false
	}
	o.writing = true
	o.held += n
	o.acct.queued(n)
	return true
}

// writeReserved writes frame, for which reserve succeeded, to w, then hands
// what was pushed meanwhile to the writer. It returns w's error.
func (o *outbound) writeReserved(w io.Writer, frame []byte) error {
	_, err := w.Write(frame)
	o.mu.Lock()
	o.written(len(frame))
	pending := len(o.buf) > 0 || o.closing || o.shutdown
	o.mu.Unlock()
	if pending {
		o.signal()
	}
	return err
}

// written ends a write of n bytes and releases their charge, unless close
// already dropped it. The caller holds o.mu.
func (o *outbound) written(n int) {
	o.writing = false
	if !o.shutdown {
		o.acct.queued(-n)
		o.held -= n
	}
}

// take waits for queued bytes and returns them; last reports that the
// connection should close after they are written. ok is false once closed.
func (o *outbound) take(closed <-chan struct{}) (buf []byte, last, ok bool) {
	for {
		o.mu.Lock()
		if o.shutdown {
			o.mu.Unlock()
			return nil, false, false
		}
		if (len(o.buf) > 0 || o.closing) && !o.writing {
			buf, o.buf = o.buf, o.spare[:0]
			o.spare = nil
			o.writing = true
			last = o.closing
			o.mu.Unlock()
			return buf, last, true
		}
		o.mu.Unlock()
		select {
		case <-o.cond:
		case <-closed:
			return nil, false, false
		}
	}
}

// release hands a written buffer back for reuse.
func (o *outbound) release(buf []byte) {
	o.mu.Lock()
	o.written(len(buf))
	if o.spare == nil && cap(buf) <= spareMax {
		o.spare = buf[:0]
	}
	o.mu.Unlock()
}

// waitFlushed writes everything queued to w synchronously; used before the
// writer goroutine exists (handshake refusals).
func (o *outbound) waitFlushed(w io.Writer) {
	o.mu.Lock()
	buf := o.buf
	o.buf = nil
	o.mu.Unlock()
	if len(buf) > 0 {
		_, _ = w.Write(buf)
	}
	o.release(buf)
}
