// Package listen delivers a recipe's events to its users' callbacks: each
// callback gets every value in order on a goroutine of its own, so a slow
// one holds up neither the recipe nor the other callbacks.
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
// function that removes it. After Close it registers nothing.
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

// Push queues vs, in order, for every callback.
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
// from one. Calling it again is a no-op.
func (s *Set[T]) Close() {
	s.mu.Lock()
	s.closed = true
	for l := range s.set {
		l.halt()
	}
	s.set = nil
	s.mu.Unlock()
	s.wg.Wait()
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
			select {
			case <-l.stop:
				return
			default:
			}
			l.fn(v)
		}
	}
}
