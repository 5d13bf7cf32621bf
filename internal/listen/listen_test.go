package listen

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestInOrderEachOwnGoroutine: every callback gets every value in order,
// a blocked one holds up no other, and Close stops them all, after which
// Add registers nothing.
func TestInOrderEachOwnGoroutine(t *testing.T) {
	var s Set[int]
	got := make(chan int, 10)
	block := make(chan struct{})
	s.Add(func(v int) { got <- v })
	s.Add(func(int) { <-block })
	s.Push(1, 2)
	s.Push(3)
	for want := 1; want <= 3; want++ {
		if v := <-got; v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
	}
	close(block)
	s.Close()
	s.Add(func(v int) { got <- v })
	s.Push(4)
	s.Close()
	select {
	case v := <-got:
		t.Fatalf("value %d delivered after Close", v)
	default:
	}
}

// TestStopDoesNotWaitForABlockedCallback: Stop returns while a callback is
// blocked, the blocked callback gets nothing more once released, other
// callbacks get nothing after Stop, and Add registers nothing; a later Close
// waits for the released goroutine.
func TestStopDoesNotWaitForABlockedCallback(t *testing.T) {
	var s Set[int]
	entered := make(chan int, 10)
	release := make(chan struct{})
	s.Add(func(v int) {
		entered <- v
		<-release
	})
	other := make(chan int, 10)
	s.Add(func(v int) { other <- v })
	s.Push(1, 2)
	if v := <-entered; v != 1 {
		t.Fatalf("blocked callback got %d, want 1", v)
	}
	for want := 1; want <= 2; want++ {
		if v := <-other; v != want {
			t.Fatalf("other callback got %d, want %d", v, want)
		}
	}
	s.Stop() // returns although a callback is blocked
	late := make(chan int, 1)
	s.Add(func(v int) { late <- v })
	s.Push(3)
	close(release)
	s.Close() // waits for the released goroutine, which must not run again
	select {
	case v := <-entered:
		t.Fatalf("blocked callback got %d after Stop", v)
	case v := <-other:
		t.Fatalf("other callback got %d after Stop", v)
	case v := <-late:
		t.Fatalf("callback added after Stop got %d", v)
	default:
	}
}

// TestRemove: a removed callback gets nothing more, the others still do,
// and removing twice is harmless.
func TestRemove(t *testing.T) {
	var s Set[int]
	removed := make(chan int, 10)
	kept := make(chan int, 10)
	remove := s.Add(func(v int) { removed <- v })
	s.Add(func(v int) { kept <- v })
	remove()
	remove()
	s.Push(1)
	if v := <-kept; v != 1 {
		t.Fatalf("kept callback got %d, want 1", v)
	}
	s.Close()
	select {
	case v := <-removed:
		t.Fatalf("removed callback got %d", v)
	default:
	}
}
