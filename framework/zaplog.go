package framework

import (
	"fmt"

	"go.uber.org/zap"
)

// zkLogger adapts zap to go-zookeeper's Printf logger so the library never
// writes to stdout/stderr on its own.
type zkLogger struct{ l *zap.Logger }

// Printf logs one go-zookeeper message at debug level: the library reports
// every reconnect attempt, which the state listeners already surface.
func (z zkLogger) Printf(format string, args ...any) {
	z.l.Debug(fmt.Sprintf(format, args...))
}
