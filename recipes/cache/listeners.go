package cache

import "sync"

// listener delivers events to one callback, in order, on its own goroutine,
// so a slow listener holds up neither the cache nor other listeners.
type listener struct {
	fn   func(Event)
	mu   sync.Mutex
	q    []Event
	wake chan struct{}
	stop chan struct{}
	once sync.Once
}

func newListener(fn func(Event)) *listener {
	return &listener{fn: fn, wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

func (l *listener) push(evs ...Event) {
	l.mu.Lock()
	l.q = append(l.q, evs...)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *listener) close() { l.once.Do(func() { close(l.stop) }) }

func (l *listener) run() {
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
			ev := l.q[0]
			l.q = l.q[1:]
			l.mu.Unlock()
			select {
			case <-l.stop:
				return
			default:
			}
			l.fn(ev)
		}
	}
}
