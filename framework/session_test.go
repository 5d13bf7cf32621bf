package framework_test

import (
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
)

// testSessionHandle: Done closes on server-side expiry and the next Session is
// a different one; a fence with a grace survives a short SUSPENDED and closes
// on a long one; a fence with grace 0 closes on SUSPENDED at once.
func testSessionHandle(t *testing.T, srv target) {
	ctx := testCtx(t)
	px := newProxy(t, srv.Addr())
	c := newClient(t, px.Addr(), framework.WithSessionTimeout(4*time.Second))
	states := c.StateChanges(ctx)
	s, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID() != c.SessionID() {
		t.Fatalf("Session().ID() = %#x, client session %#x", s.ID(), c.SessionID())
	}
	strict, stopStrict := s.Fence(0)
	defer stopStrict()
	patient, stopPatient := s.Fence(time.Hour)
	defer stopPatient()

	// A short cut: SUSPENDED then RECONNECTED to the same session.
	px.Cut()
	expectStates(t, states, framework.Suspended)
	select {
	case <-strict:
	case <-time.After(wait):
		t.Fatal("grace-0 fence still open while SUSPENDED")
	}
	if _, ok := s.Suspended(); !ok {
		t.Fatal("Suspended() false while SUSPENDED")
	}
	expectStates(t, states, framework.Reconnected)
	if _, ok := s.Suspended(); ok {
		t.Fatal("Suspended() true after RECONNECTED")
	}
	select {
	case <-patient:
		t.Fatal("fence with a long grace closed by a short SUSPENDED")
	case <-s.Done():
		t.Fatal("Done closed by a short SUSPENDED")
	default:
	}

	// Expiry: LOST closes Done and the long-grace fence; the next session is new.
	expireSession(t, px.Addr(), c)
	expectStates(t, states, framework.Suspended, framework.Lost, framework.Reconnected)
	select {
	case <-s.Done():
	default:
		t.Fatal("Done still open after LOST")
	}
	select {
	case <-patient:
	case <-time.After(wait):
		t.Fatal("fence still open after LOST")
	}
	next, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next == s || next.ID() == s.ID() {
		t.Fatalf("Session after LOST is the old one (%#x)", s.ID())
	}
	// Close ends the current session's handle too.
	_ = c.Close()
	select {
	case <-next.Done():
	default:
		t.Fatal("Done still open after Close")
	}
	if _, err := c.Session(ctx); err == nil {
		t.Fatal("Session after Close: no error")
	}
}
