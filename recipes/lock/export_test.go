package lock

// SetWakeHook makes f run each time a waiter of m wakes from a watch.
func SetWakeHook(m *Mutex, f func()) { m.setWakeHook(f) }

// SetLeaseWakeHook makes f run each time s's wait for a free lease wakes.
func SetLeaseWakeHook(s *Semaphore, f func()) { s.leases.OnWake = f }
