// Package listen delivers events to users' callbacks: each callback gets
// every value in order on a goroutine of its own, so a slow one holds up
// neither the producer nor the other callbacks.
//
// It is shared by the client framework (connection states) and the recipes
// (cache events, counter values), which differ only in how they shut down,
// so a Set has two ways to stop:
//
//   - Close stops the callbacks and waits for their goroutines, a running
//     callback included. A recipe's Close uses it, so that no goroutine of the
//     recipe outlives it.
//   - Stop stops them without waiting. framework.Client.Close uses it: a
//     connection listener is application code that may block for ever (or
//     call back into the client), and closing the client must still return.
//     A callback that is running returns in its own time.
//
// Either way no callback starts once the call has returned, values still
// queued are dropped, and Add registers nothing more.
package listen

import "sync"

// Set is a set of callbacks of values of type T. The zero Set is ready to
// use; it must not be copied after first use.
type Set[T any] struct {
	mu     sync.Mutex
	set    map[*listener[T]]struct{}
	closed bool
	wg     sync.WaitGroup
}

type listener[T any] struct {
	fn   func(T)
	mu   sync.Mutex
	q    []T
	wake chan struct{}
	stop chan struct{}
	once sync.Once
}

// Add registers fn for every value pushed from now on and returns the
// function that removes it. Remove does not wait for a running fn to return,
// and may be called more than once. After Close or Stop, Add registers
// nothing.
func (s *Set[T]) Add(fn func(T)) (remove func()) {
	l := &listener[T]{fn: fn, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return func() {}
	}
	if s.set == nil {
		s.set = map[*listener[T]]struct{}{}
	}
	s.set[l] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		l.run()
	}()
	return func() {
		s.mu.Lock()
		delete(s.set, l)
		s.mu.Unlock()
		l.halt()
	}
}

// Push queues vs, in order, for every callback. It never blocks on a
// callback.
func (s *Set[T]) Push(vs ...T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range s.set {
		l.mu.Lock()
		l.q = append(l.q, vs...)
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Close stops every callback, dropping what is still queued, and waits for
// their goroutines, including a callback that is running: do not call it
// from one, nor where a callback may block for ever (use Stop). Calling it
// again, or after Stop, waits the same way.
func (s *Set[T]) Close() {
	s.Stop()
	s.wg.Wait()
}

// Stop stops every callback, dropping what is still queued, without waiting
// for a callback that is running; that one returns in its own time and no
// other starts. It may be called from a callback. Calling it again is a
// no-op.
func (s *Set[T]) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for l := range s.set {
		l.halt()
	}
	s.set = nil
}

func (l *listener[T]) halt() { l.once.Do(func() { close(l.stop) }) }

func (l *listener[T]) run() {
	for {
		select {
		case <-l.stop:
			return
		case <-l.wake:
		}
		for {
			l.mu.Lock()
			if len(l.q) == 0 {
				l.mu.Unlock()
				break
			}
			v := l.q[0]
			l.q = l.q[1:]
			l.mu.Unlock()
			select { // no callback after Stop, Close or remove
			case <-l.stop:
				return
			default:
			}
			l.fn(v)
		}
	}
}
