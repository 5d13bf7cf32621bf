package loadgen

import (
	"context"
	"fmt"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"
)

// zkLogger sends go-zookeeper's log lines to zap at debug level: reconnects
// during a benchmark are expected and counted as errors, not printed.
type zkLogger struct{ l *zap.SugaredLogger }

func (z zkLogger) Printf(format string, args ...any) { z.l.Debugf(format, args...) }

// dial opens n sessions and waits until each has one. On failure it closes
// whatever it opened.
func dial(ctx context.Context, cfg Config, n int, log *zap.Logger) ([]*zk.Conn, error) {
	conns := make([]*zk.Conn, 0, n)
	ctx, cancel := context.WithTimeout(ctx, cfg.SessionTimeout)
	defer cancel()
	for i := 0; i < n; i++ {
		c, events, err := zk.Connect(cfg.Servers, cfg.SessionTimeout,
			zk.WithLogger(zkLogger{log.Sugar()}), zk.WithLogInfo(false))
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("loadgen: connect: %w", err)
		}
		conns = append(conns, c)
		if err := waitSession(ctx, events); err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("loadgen: session %d with %v: %w", i, cfg.Servers, err)
		}
	}
	return conns, nil
}

func waitSession(ctx context.Context, events <-chan zk.Event) error {
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("connection closed")
			}
			if ev.State == zk.StateHasSession {
				return nil
			}
			if ev.State == zk.StateAuthFailed || ev.State == zk.StateExpired {
				return fmt.Errorf("state %v", ev.State)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func closeAll(conns []*zk.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
