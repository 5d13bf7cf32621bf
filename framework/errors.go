package framework

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/go-zookeeper/zk"
)

// The sentinel errors below say what went wrong without naming the package:
// the operation that returns one wraps it once, as in
// "framework: get /p: client closed", so errors.Is works and the text reads
// well.

// ErrClosed is returned by operations on a Client after Close.
var ErrClosed = errors.New("client closed")

// ErrNotConnected is returned by BlockUntilConnected when the context ends
// before a connection is established.
var ErrNotConnected = errors.New("not connected")

// ErrNamespaceView is returned by Close on a Client obtained from Namespace:
// only the root client owns the session.
var ErrNamespaceView = errors.New("close called on a namespace view; close the root client")

// ErrInvalidConnectString reports a malformed connect string.
var ErrInvalidConnectString = errors.New("invalid connect string")

// ErrInvalidPath reports a malformed znode path or namespace.
var ErrInvalidPath = errors.New("invalid path")

// ErrMaybeApplied marks a write that failed after it may have reached the
// server (typically connection loss) and that is not safe to repeat blindly,
// such as an unprotected sequential create or a transaction. The error also
// wraps the underlying cause; read the state back to learn the outcome.
var ErrMaybeApplied = errors.New("write may have been applied; not retried")

// wrapOp gives an error the package prefix and the operation, once.
func wrapOp(op string, err error) error { return fmt.Errorf("framework: %s: %w", op, err) }

// IsRetryable reports whether err is a failure that may be retried safely for
// an idempotent operation: the connection was lost or not yet established,
// the operation timed out, the session moved or expired. Everything else
// (NoNode, NodeExists, BadVersion, NoAuth...) is an answer, not a failure.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrMaybeApplied) {
		return false
	}
	switch {
	case errors.Is(err, zk.ErrConnectionClosed),
		errors.Is(err, zk.ErrNoServer),
		errors.Is(err, zk.ErrSessionMoved),
		errors.Is(err, zk.ErrSessionExpired),
		errors.Is(err, zk.ErrClosing): // the handle was replaced after LOST
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// go-zookeeper has no sentinel for OPERATIONTIMEOUT (-7).
	return strings.Contains(err.Error(), "unknown error: -7")
}

// notSent reports whether err proves the request never left the client, which
// makes even a non-idempotent write safe to repeat.
func notSent(err error) bool {
	return errors.Is(err, zk.ErrNoServer)
}
