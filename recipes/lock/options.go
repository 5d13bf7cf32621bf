package lock

import "time"

// Option configures a Mutex, RWMutex, Semaphore or MultiLock.
type Option func(*config)

type config struct {
	data      []byte
	grace     time.Duration
	reentrant bool
}

// WithData sets the data stored in this participant's nodes (Curator's
// lockData; a LeaderSelector stores its id there). Default: empty.
func WithData(data []byte) Option {
	return func(c *config) { c.data = append([]byte(nil), data...) }
}

// WithGrace sets how long the connection may stay SUSPENDED before a hold is
// no longer trusted and Lost closes. Default 0: at once, which is Curator's
// standard error policy and the only safe choice when the protected resource
// cannot check fencing tokens. A grace shorter than the session timeout keeps
// a hold across short blips; a negative grace waits for LOST alone, which can
// give two holders during a partition (CURATOR-460).
func WithGrace(d time.Duration) Option { return func(c *config) { c.grace = d } }

// Reentrant makes Lock and TryLock on a Mutex value that already holds the
// lock succeed at once, counting holds; the node is deleted by the Unlock
// that matches the first Lock. Go has no thread identity, so with this
// option the value no longer excludes the goroutines that share it: give
// each goroutine its own Mutex. Without it (the default) a held Mutex makes
// a second Lock wait, as sync.Mutex does.
func Reentrant() Option { return func(c *config) { c.reentrant = true } }

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return c
}
