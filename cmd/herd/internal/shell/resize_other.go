//go:build !unix

package shell

// onResize does nothing where there is no SIGWINCH, as readline's own default
// does on Windows.
func onResize(func()) (stop func()) { return func() {} }
