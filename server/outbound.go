package server

import (
	"io"
	"sync"
)

// outbound is a connection's ordered stream of encoded frames. Responses and
// watch notifications are appended by different goroutines; the writer takes
// whatever has accumulated and sends it in one syscall.
type outbound struct {
	mu       sync.Mutex
	cond     chan struct{} // signalled (non-blocking) when data arrives
	buf      []byte
	spare    []byte
	max      int
	closing  bool // flush what is queued, then close
	shutdown bool
}

func (o *outbound) init(max int) {
	o.cond = make(chan struct{}, 1)
	o.max = max
}

// push appends frame. It returns false when the queue is over its cap (a slow
// consumer) or closed.
func (o *outbound) push(frame []byte) bool {
	o.mu.Lock()
	if o.shutdown || o.closing {
		ok := !o.shutdown // read under the lock: closeAsync sets it concurrently
		o.mu.Unlock()
		return ok
	}
	if len(o.buf)+len(frame) > o.max {
		o.mu.Unlock()
		return false
	}
	o.buf = append(o.buf, frame...)
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
	o.mu.Unlock()
	o.signal()
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
		if len(o.buf) > 0 || o.closing {
			buf, o.buf = o.buf, o.spare[:0]
			o.spare = nil
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
	if o.spare == nil && cap(buf) <= 1<<20 {
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
}
