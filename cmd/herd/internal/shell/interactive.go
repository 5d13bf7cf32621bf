package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/chzyer/readline"
)

// interactive runs the prompt loop with line editing, in-memory history and
// completion until quit, end of input or ctx ends.
func interactive(ctx context.Context, sh *Shell, cfg *config) int {
	// Our own cancelable wrapper, closed on return, so that its reader
	// goroutine ends even though cfg.stdin (os.Stdin) stays open.
	stdin := readline.NewCancelableStdin(cfg.stdin)
	defer stdin.Close()
	rc := &readline.Config{
		Prompt:            sh.Prompt(),
		AutoComplete:      &completer{sh: sh},
		Stdin:             stdin,
		Stdout:            cfg.stdout,
		Stderr:            cfg.stderr,
		HistorySearchFold: true,
	}
	// readline's defaults act on file descriptors 0 and 1 whatever Stdin and
	// Stdout are, and watch SIGWINCH from a goroutine that never ends; work on
	// the terminal we were given instead.
	if f, ok := cfg.stdin.(*os.File); ok {
		rc.FuncIsTerminal = func() bool { return isTerminal(f) }
		var (
			rawMu sync.Mutex // Close may restore the tty from another goroutine
			saved *readline.State
		)
		rc.FuncMakeRaw = func() (err error) {
			rawMu.Lock()
			defer rawMu.Unlock()
			withFd(f, func(fd int) { saved, err = readline.MakeRaw(fd) })
			return err
		}
		rc.FuncExitRaw = func() (err error) {
			rawMu.Lock()
			defer rawMu.Unlock()
			if saved != nil {
				withFd(f, func(fd int) { err = readline.Restore(fd, saved) })
			}
			return err
		}
		size := f
		if out, ok := cfg.stdout.(*os.File); ok && isTerminal(out) {
			size = out
		}
		rc.FuncGetWidth = func() int {
			width := -1
			withFd(size, func(fd int) {
				if w, _, err := readline.GetSize(fd); err == nil {
					width = w
				}
			})
			return width
		}
		var stopResize func()
		rc.FuncOnWidthChanged = func(redraw func()) { stopResize = onResize(redraw) }
		defer func() {
			if stopResize != nil {
				stopResize()
			}
		}()
	}
	if cfg.rlConfig != nil {
		cfg.rlConfig(rc)
	}
	rl, err := readline.NewEx(rc)
	if err != nil {
		fmt.Fprintf(cfg.stderr, "line editor: %v\n", err)
		return exitFailed
	}
	defer rl.Close()
	stop := context.AfterFunc(ctx, func() { _ = rl.Close() })
	defer stop()
	// Output goes through readline so that watch events printed while the
	// user types redraw the prompt instead of corrupting it.
	sh.mu.Lock()
	sh.out, sh.errw = rl.Stdout(), rl.Stderr()
	sh.mu.Unlock()
	for {
		rl.SetPrompt(sh.Prompt())
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue // ^C clears the line, as in a shell
		case errors.Is(err, io.EOF):
			return exitOK
		case err != nil:
			fmt.Fprintf(cfg.stderr, "read: %v\n", err)
			return exitFailed
		}
		if errors.Is(sh.Execute(ctx, line), errQuit) {
			return exitOK
		}
	}
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	is := false
	withFd(f, func(fd int) { is = readline.IsTerminal(fd) })
	return is
}

// withFd runs op on f's file descriptor. Unlike f.Fd it leaves f in
// non-blocking mode, so closing f still interrupts a pending Read.
func withFd(f *os.File, op func(fd int)) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { op(int(fd)) })
	}
}
