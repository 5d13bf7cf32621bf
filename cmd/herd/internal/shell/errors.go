package shell

import (
	"errors"
	"fmt"

	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

var (
	// errUsage marks a malformed command; its message is the usage line.
	errUsage = errors.New("usage")
	// errBadACL marks an ACL string zkCli's AclParser would reject.
	errBadACL = errors.New("bad acl")
	// errUnknownCommand marks a command name the shell does not know.
	//lint:ignore ST1005 zkCli prints this text as is, capital included.
	errUnknownCommand = errors.New("Command not found")
	// errQuit is returned by quit to end the session loop.
	errQuit = errors.New("quit")
)

// cliError is a failed command with the text zkCli prints for it.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// codeMessages are KeeperException.Code messages for codes zkCli prints generically.
var codeMessages = map[proto.Error]string{
	proto.ErrSystemError: "SystemError", proto.ErrRuntimeInconsistency: "RuntimeInconsistency",
	proto.ErrDataInconsistency: "DataInconsistency", proto.ErrConnectionLoss: "ConnectionLoss",
	proto.ErrMarshallingError: "MarshallingError", proto.ErrUnimplemented: "Unimplemented",
	proto.ErrOperationTimeout: "OperationTimeout", proto.ErrBadArguments: "BadArguments",
	proto.ErrUnknownSession: "Unknown session", proto.ErrAPIError: "APIError", proto.ErrNoNode: "NoNode",
	proto.ErrNoAuth: "NoAuth", proto.ErrBadVersion: "BadVersion",
	proto.ErrNoChildrenForEphemerals: "NoChildrenForEphemerals", proto.ErrNodeExists: "NodeExists",
	proto.ErrNotEmpty: "Directory not empty", proto.ErrSessionExpired: "Session expired",
	proto.ErrInvalidCallback: "Invalid callback", proto.ErrInvalidACL: "InvalidACL",
	proto.ErrAuthFailed: "AuthFailed", proto.ErrSessionMoved: "Session moved",
	proto.ErrNotReadOnly: "Not a read-only call", proto.ErrEphemeralOnLocalSession: "Ephemeral node on local session",
	proto.ErrNoWatcher: "No such watcher", proto.ErrRequestTimeout: "Request timeout",
	proto.ErrReconfigDisabled: "Reconfig is disabled", proto.ErrQuotaExceeded: "Quota has exceeded",
	proto.ErrThrottledOp: "Op throttled due to high load",
}

// describe turns err from an operation on path into zkCli's message
// (CliWrapperException and KeeperException.getMessage).
func describe(err error, path string) error {
	var code proto.Error
	if !errors.As(err, &code) {
		if errors.Is(err, ErrNotConnected) || errors.Is(err, wireclient.ErrClosed) {
			return &cliError{msg: "Not connected", err: err}
		}
		return &cliError{msg: err.Error(), err: err}
	}
	var msg string
	switch code {
	case proto.ErrNoNode:
		msg = "Node does not exist: " + path
	case proto.ErrNoChildrenForEphemerals:
		msg = "Ephemerals cannot have children: " + path
	case proto.ErrNodeExists:
		msg = "Node already exists: " + path
	case proto.ErrNotEmpty:
		msg = "Node not empty: " + path
	case proto.ErrNotReadOnly:
		msg = "Not a read-only call: " + path
	case proto.ErrInvalidACL:
		msg = "Acl is not valid : " + path
	case proto.ErrNoAuth:
		msg = "Authentication is not valid : " + path
	case proto.ErrBadArguments:
		msg = "Arguments are not valid : " + path
	case proto.ErrBadVersion:
		msg = "version No is not valid : " + path
	case proto.ErrReconfigInProgress:
		msg = "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
	case proto.ErrNewConfigNoQuorum:
		msg = "No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced"
	default:
		name, ok := codeMessages[code]
		if !ok {
			name = fmt.Sprintf("Unknown(%d)", int32(code))
		}
		msg = "KeeperErrorCode = " + name
		if path != "" {
			msg += " for " + path
		}
	}
	return &cliError{msg: msg, err: err}
}

// usageError is zkCli's MalformedCommandException carrying the usage line.
func usageError(c *command) error {
	return &cliError{msg: c.name + " " + c.usage, err: errUsage}
}
