// Package zaphclog adapts zap to hclog.Logger, the logger hashicorp/raft and
// raft-wal take, so that their messages arrive as zap entries at their own
// level, with their key/value pairs as fields and no second timestamp.
package zaphclog

import (
	"fmt"
	"io"
	"log"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns an hclog.Logger writing to z. Trace and Debug map to zap's
// Debug; Info, Warn and Error to their namesakes. Which levels are written is
// decided by z's core (SetLevel is ignored): `herd serve --log-level warn`
// shows Raft's warnings and hides its info lines.
func New(z *zap.Logger, opts ...Option) hclog.Logger {
	l := &logger{z: z.WithOptions(zap.AddCallerSkip(1))}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Option adjusts the adapter.
type Option func(*logger)

// Demote logs the message msg (exactly) at level instead of its own: for a
// warning that is expected in some setup, such as a one-node Raft's
// "heartbeat timeout reached" before it elects itself at every start.
func Demote(msg string, level zapcore.Level) Option {
	return func(l *logger) {
		if l.demote == nil {
			l.demote = map[string]zapcore.Level{}
		}
		l.demote[msg] = level
	}
}

type logger struct {
	z       *zap.Logger
	name    string
	implied []interface{}
	demote  map[string]zapcore.Level
}

func zapLevel(l hclog.Level) zapcore.Level {
	switch l {
	case hclog.Trace, hclog.Debug:
		return zapcore.DebugLevel
	case hclog.Warn:
		return zapcore.WarnLevel
	case hclog.Error:
		return zapcore.ErrorLevel
	}
	return zapcore.InfoLevel
}

// fields turns hclog's alternating key/value arguments into zap fields; an
// odd trailing value is kept under "EXTRA_VALUE_AT_END", as hclog does.
func fields(args []interface{}) []zap.Field {
	out := make([]zap.Field, 0, (len(args)+1)/2)
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			out = append(out, zap.Any("EXTRA_VALUE_AT_END", args[i]))
			break
		}
		key, ok := args[i].(string)
		if !ok {
			key = fmt.Sprint(args[i])
		}
		switch v := args[i+1].(type) {
		case error:
			out = append(out, zap.NamedError(key, v))
		case fmt.Stringer:
			out = append(out, zap.Stringer(key, v))
		default:
			out = append(out, zap.Any(key, v))
		}
	}
	return out
}

func (l *logger) Log(level hclog.Level, msg string, args ...interface{}) {
	if level == hclog.Off {
		return
	}
	lvl := zapLevel(level)
	if d, ok := l.demote[msg]; ok && d < lvl {
		lvl = d
	}
	if ce := l.z.Check(lvl, msg); ce != nil {
		ce.Write(fields(args)...)
	}
}

func (l *logger) Trace(msg string, args ...interface{}) { l.Log(hclog.Trace, msg, args...) }
func (l *logger) Debug(msg string, args ...interface{}) { l.Log(hclog.Debug, msg, args...) }
func (l *logger) Info(msg string, args ...interface{})  { l.Log(hclog.Info, msg, args...) }
func (l *logger) Warn(msg string, args ...interface{})  { l.Log(hclog.Warn, msg, args...) }
func (l *logger) Error(msg string, args ...interface{}) { l.Log(hclog.Error, msg, args...) }

func (l *logger) IsTrace() bool { return l.z.Core().Enabled(zapcore.DebugLevel) }
func (l *logger) IsDebug() bool { return l.z.Core().Enabled(zapcore.DebugLevel) }
func (l *logger) IsInfo() bool  { return l.z.Core().Enabled(zapcore.InfoLevel) }
func (l *logger) IsWarn() bool  { return l.z.Core().Enabled(zapcore.WarnLevel) }
func (l *logger) IsError() bool { return l.z.Core().Enabled(zapcore.ErrorLevel) }

func (l *logger) ImpliedArgs() []interface{} { return l.implied }

func (l *logger) With(args ...interface{}) hclog.Logger {
	return &logger{z: l.z.With(fields(args)...), name: l.name, demote: l.demote,
		implied: append(append([]interface{}(nil), l.implied...), args...)}
}

func (l *logger) Name() string { return l.name }

func (l *logger) Named(name string) hclog.Logger {
	full := name
	if l.name != "" {
		full = l.name + "." + name
	}
	return &logger{z: l.z.Named(name), name: full, implied: l.implied, demote: l.demote}
}

// ResetNamed cannot drop the names zap already holds; it adds name, which
// is what raft's callers (Named once, at start) need.
func (l *logger) ResetNamed(name string) hclog.Logger {
	return &logger{z: l.z.Named(name), name: name, implied: l.implied, demote: l.demote}
}

// SetLevel is ignored: the zap core decides.
func (l *logger) SetLevel(hclog.Level) {}

func (l *logger) GetLevel() hclog.Level {
	switch {
	case l.IsDebug():
		return hclog.Debug
	case l.IsInfo():
		return hclog.Info
	case l.IsWarn():
		return hclog.Warn
	}
	return hclog.Error
}

func (l *logger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *logger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writer{l}
}

// writer logs each line written at info (the standard library's log has no
// levels).
type writer struct{ l *logger }

func (w writer) Write(p []byte) (int, error) {
	msg := string(p)
	for len(msg) > 0 && (msg[len(msg)-1] == '\n' || msg[len(msg)-1] == '\r') {
		msg = msg[:len(msg)-1]
	}
	w.l.Info(msg)
	return len(p), nil
}
