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
