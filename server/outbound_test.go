package server

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// gatedWriter records what is written; the first Write waits for release.
type gatedWriter struct {
	mu      sync.Mutex
	got     bytes.Buffer
	entered chan struct{}
	release chan struct{}
	calls   atomic.Int32
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	if w.calls.Add(1) == 1 {
		close(w.entered)
		<-w.release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.Write(p)
}

// An inline write keeps its place in the stream: a frame pushed while it is
// under way (a watch notification) is not taken by the writer until it ends,
// so the bytes go out in the order reserve and push were called.
func TestOutboundInlineWriteKeepsOrder(t *testing.T) {
	var o outbound
	o.init(newBudget(Config{MaxOutstandingRequests: 10, MaxQueuedBytes: 1 << 20, MaxOutboundBytes: 1 << 20}).newAccount())
	w := &gatedWriter{entered: make(chan struct{}), release: make(chan struct{})}

	if !o.reserve(len("reply")) {
		t.Fatal("reserve on an idle stream failed")
	}
	if o.reserve(1) {
		t.Fatal("a second reserve succeeded while the first is under way")
	}
	inlineDone := make(chan error)
	go func() { inlineDone <- o.writeReserved(w, []byte("reply")) }()
	<-w.entered
	if !o.push([]byte("notification"), 0) {
		t.Fatal("push refused")
	}
	// The writer goroutine, as conn.write runs it. Were it to take the
	// notification now, it would reach w before the reply.
	closed := make(chan struct{})
	written := make(chan struct{})
	go func() {
		defer close(written)
		buf, _, ok := o.take(closed)
		if ok {
			_, _ = w.Write(buf)
			o.release(buf)
		}
	}()
	for range 100 {
		runtime.Gosched() // give a wrong take its chance to run first
	}
	close(w.release)
	if err := <-inlineDone; err != nil {
		t.Fatal(err)
	}
	<-written
	if got := w.got.String(); got != "replynotification" {
		t.Fatalf("stream %q, want the reply before the notification", got)
	}
	if o.held != 0 || o.acct.outBytes.Load() != 0 {
		t.Fatalf("held %d, accounted %d after everything was written", o.held, o.acct.outBytes.Load())
	}
	if !o.reserve(1) {
		t.Fatal("reserve failed on a stream idle again")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

// A connection lost under an inline write: the error reaches the caller (who
// closes the connection), the frame's charge is released, and what was
// pushed meanwhile still goes to the writer.
func TestOutboundInlineWriteFailureAndClose(t *testing.T) {
	var o outbound
	o.init(newBudget(Config{MaxOutstandingRequests: 10, MaxQueuedBytes: 1 << 20, MaxOutboundBytes: 1 << 20}).newAccount())
	if !o.reserve(len("reply")) {
		t.Fatal("reserve on an idle stream failed")
	}
	if err := o.writeReserved(failingWriter{}, []byte("reply")); err == nil {
		t.Fatal("writeReserved hid the write error")
	}
	if o.held != 0 || o.acct.outBytes.Load() != 0 || o.writing {
		t.Fatalf("after a failed write: held %d, accounted %d, writing %v", o.held, o.acct.outBytes.Load(), o.writing)
	}

	// close while an inline write is blocked (a slow consumer whose session
	// ends): the charge is dropped once, by close.
	w := &gatedWriter{entered: make(chan struct{}), release: make(chan struct{})}
	if !o.reserve(len("reply")) {
		t.Fatal("reserve failed after a failed write")
	}
	done := make(chan error)
	go func() { done <- o.writeReserved(w, []byte("reply")) }()
	<-w.entered
	o.close()
	close(w.release)
	<-done
	if o.held != 0 || o.acct.outBytes.Load() != 0 {
		t.Fatalf("after close: held %d, accounted %d", o.held, o.acct.outBytes.Load())
	}
	if o.reserve(1) || o.push([]byte("x"), 0) {
		t.Fatal("a closed stream accepted a frame")
	}
}
