package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

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
	if f, ok := cfg.stdin.(*os.File); ok {
		fd := int(f.Fd())
		rc.FuncIsTerminal = func() bool { return readline.IsTerminal(fd) }
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
