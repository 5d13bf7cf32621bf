package session

import (
	"reflect"
	"testing"
	"time"
)

var t0 = time.Unix(1000, 0)

func TestExpiryAfterTimeoutRoundedToTick(t *testing.T) {
	tr := NewTracker(time.Second)
	tr.Add(1, 4*time.Second, t0)
	if got := tr.Expired(t0.Add(4 * time.Second)); len(got) != 0 {
		t.Fatalf("expired at exactly timeout before tick boundary round-up: %v", got)
	}
	if got := tr.Expired(t0.Add(5 * time.Second)); !reflect.DeepEqual(got, []int64{1}) {
		t.Fatalf("Expired = %v, want [1]", got)
	}
	if got := tr.Expired(t0.Add(10 * time.Second)); len(got) != 0 {
		t.Fatalf("returned twice: %v", got)
	}
	if tr.Touch(1, t0) || tr.Alive(1) {
		t.Fatal("a closing session must not be revived")
	}
}

func TestTouchExtends(t *testing.T) {
	tr := NewTracker(time.Second)
	tr.Add(7, 2*time.Second, t0)
	for i := 1; i <= 10; i++ {
		if !tr.Touch(7, t0.Add(time.Duration(i)*time.Second)) {
			t.Fatal("touch failed")
		}
		if got := tr.Expired(t0.Add(time.Duration(i) * time.Second)); len(got) != 0 {
			t.Fatalf("expired while touched at %ds", i)
		}
	}
	if tr.Touch(8, t0) {
		t.Fatal("unknown session touched")
	}
}

func TestResetGivesFreshDeadlines(t *testing.T) {
	tr := NewTracker(time.Second)
	tr.Add(1, time.Second, t0)
	later := t0.Add(time.Hour)
	tr.Reset(map[int64]time.Duration{1: 3 * time.Second, 2: 3 * time.Second}, later)
	if got := tr.Expired(later.Add(2 * time.Second)); len(got) != 0 {
		t.Fatalf("expired right after reset: %v", got)
	}
	if got := tr.Expired(later.Add(5 * time.Second)); !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Fatalf("Expired = %v", got)
	}
	tr.Remove(1)
	if tr.Len() != 1 {
		t.Fatalf("Len = %d", tr.Len())
	}
}
