//go:build unix

package shell

import (
	"os"
	"os/signal"
	"syscall"
)

// onResize calls f whenever the terminal's size changes (SIGWINCH) until stop
// is called.
func onResize(f func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	ended := make(chan struct{})
	signal.Notify(ch, syscall.SIGWINCH)
	go func() {
		defer close(ended)
		for {
			select {
			case <-ch:
				f()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-ended
	}
}
