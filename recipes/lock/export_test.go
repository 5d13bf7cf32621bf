package lock

// SetWakeHook makes f run each time a waiter of m wakes from a watch.
func SetWakeHook(m *Mutex, f func()) { m.setWakeHook(f) }
