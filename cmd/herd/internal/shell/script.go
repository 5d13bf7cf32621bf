package shell

import (
	"bufio"
	"context"
	"errors"
	"io"
)

// script runs one command per line from r. The status is 1 if any command
// failed, so `herd shell < cmds && next` stops on the first broken script.
func script(ctx context.Context, sh *Shell, r io.Reader) int {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	status := exitOK
	for sc.Scan() {
		if ctx.Err() != nil {
			return exitFailed
		}
		err := sh.Execute(ctx, sc.Text())
		if errors.Is(err, errQuit) {
			break
		}
		if err != nil {
			status = exitFailed
		}
	}
	if err := sc.Err(); err != nil {
		sh.printError(err)
		return exitFailed
	}
	return status
}
