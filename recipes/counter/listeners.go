package counter

import "sync"

// listeners delivers values to callbacks, each in order on its own
// goroutine, so a slow callback holds up neither the watch nor the others.
type listeners[T any] struct {
	mu  sync.Mutex
	set map[*listener[T]]struct{}
	wg  sync.WaitGroup
}

type listener[T any] struct {
	fn   func(T)
	mu   sync.Mutex
	q    []T
	wake chan struct{}
	stop chan struct{}
	once sync.Once
}

func (ls *listeners[T]) add(fn func(T)) (remove func()) {
	l := &listener[T]{fn: fn, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	ls.mu.Lock()
	if ls.set == nil {
		ls.set = map[*listener[T]]struct{}{}
	}
	ls.set[l] = struct{}{}
	ls.wg.Add(1)
	ls.mu.Unlock()
	go func() {
		defer ls.wg.Done()
		l.run()
	}()
	return func() {
		ls.mu.Lock()
		delete(ls.set, l)
		ls.mu.Unlock()
		l.once.Do(func() { close(l.stop) })
	}
}

func (ls *listeners[T]) push(v T) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for l := range ls.set {
		l.mu.Lock()
		l.q = append(l.q, v)
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// closeAll stops every listener and waits for their goroutines.
func (ls *listeners[T]) closeAll() {
	ls.mu.Lock()
	for l := range ls.set {
		l.once.Do(func() { close(l.stop) })
	}
	ls.set = nil
	ls.mu.Unlock()
	ls.wg.Wait()
}

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
