package election

import (
	"time"

	"go.uber.org/zap"
)

// Option configures a Latch or a Selector.
type Option func(*config)

type config struct {
	grace   time.Duration
	requeue bool
	log     *zap.Logger
}

// WithGrace sets how long the connection may stay SUSPENDED before
// leadership is given up. Default 0: at once (Curator's standard error
// policy). A negative grace waits for LOST alone, which can give two leaders
// during a partition (CURATOR-460).
func WithGrace(d time.Duration) Option { return func(c *config) { c.grace = d } }

// AutoRequeue makes a Selector's Run join the election again each time a
// term ends, until Run's ctx ends (Curator's autoRequeue). Without it Run
// returns after one term.
func AutoRequeue() Option { return func(c *config) { c.requeue = true } }

// WithLogger sets where a Latch logs its retries and a Selector with
// AutoRequeue logs the errors its lead function returned. Default: none.
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

func newConfig(opts []Option) config {
	c := config{log: zap.NewNop()}
	for _, o := range opts {
		o(&c)
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	return c
}
