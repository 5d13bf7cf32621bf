package discovery

import "time"

// SetClock replaces the clock the provider's down-instance policy reads.
func SetClock(p *Provider, now func() time.Time) {
	p.down.mu.Lock()
	defer p.down.mu.Unlock()
	p.down.now = now
}
