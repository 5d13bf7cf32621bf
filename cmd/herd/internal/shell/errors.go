package shell

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

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
	// errBadChroot marks a connect string whose chroot is not a valid path.
	errBadChroot = errors.New("bad chroot")
	// errConnect marks a connection that could not be established.
	errConnect = errors.New("cannot connect")
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
		return &cliError{msg: strings.ReplaceAll(err.Error(), "wireclient: ", ""), err: err}
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

// codeNames are KeeperException.Code's enum names, which -o json reports as
// "code" (with the number as "rc") so scripts can tell failures apart.
var codeNames = map[proto.Error]string{
	proto.ErrSystemError: "SYSTEMERROR", proto.ErrRuntimeInconsistency: "RUNTIMEINCONSISTENCY",
	proto.ErrDataInconsistency: "DATAINCONSISTENCY", proto.ErrConnectionLoss: "CONNECTIONLOSS",
	proto.ErrMarshallingError: "MARSHALLINGERROR", proto.ErrUnimplemented: "UNIMPLEMENTED",
	proto.ErrOperationTimeout: "OPERATIONTIMEOUT", proto.ErrBadArguments: "BADARGUMENTS",
	proto.ErrUnknownSession: "UNKNOWNSESSION", proto.ErrNewConfigNoQuorum: "NEWCONFIGNOQUORUM",
	proto.ErrReconfigInProgress: "RECONFIGINPROGRESS", proto.ErrAPIError: "APIERROR",
	proto.ErrNoNode: "NONODE", proto.ErrNoAuth: "NOAUTH", proto.ErrBadVersion: "BADVERSION",
	proto.ErrNoChildrenForEphemerals: "NOCHILDRENFOREPHEMERALS", proto.ErrNodeExists: "NODEEXISTS",
	proto.ErrNotEmpty: "NOTEMPTY", proto.ErrSessionExpired: "SESSIONEXPIRED",
	proto.ErrInvalidCallback: "INVALIDCALLBACK", proto.ErrInvalidACL: "INVALIDACL",
	proto.ErrAuthFailed: "AUTHFAILED", proto.ErrSessionMoved: "SESSIONMOVED",
	proto.ErrNotReadOnly: "NOTREADONLY", proto.ErrEphemeralOnLocalSession: "EPHEMERALONLOCALSESSION",
	proto.ErrNoWatcher: "NOWATCHER", proto.ErrRequestTimeout: "REQUESTTIMEOUT",
	proto.ErrReconfigDisabled: "RECONFIGDISABLED", proto.ErrQuotaExceeded: "QUOTAEXCEEDED",
	proto.ErrThrottledOp: "THROTTLEDOP",
}

// errorJSON is a failed command as -o json prints it on stderr: zkCli's
// message, a code, and for a ZooKeeper error code its number (rc). Failures
// that are not the server's have codes of the shell's own: USAGE (a malformed
// command or argument), UNKNOWNCOMMAND, NOTCONNECTED, CONNECTFAILED, ERROR.
// A path the Java client would refuse before sending it reports BADARGUMENTS
// (rc -8), what a server answers for that path.
type errorJSON struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	RC    *int32 `json:"rc,omitempty"`
}

func toErrorJSON(err error) errorJSON {
	out := errorJSON{Error: err.Error(), Code: "ERROR"}
	var code proto.Error
	switch {
	case errors.As(err, &code):
		rc := int32(code)
		out.RC = &rc
		out.Code = codeNames[code]
		if out.Code == "" {
			out.Code = fmt.Sprintf("UNKNOWN(%d)", rc)
		}
	case errors.Is(err, errUsage), errors.Is(err, errBadACL), errors.Is(err, errBadChroot):
		out.Code = "USAGE"
	case errors.Is(err, errUnknownCommand):
		out.Code = "UNKNOWNCOMMAND"
	case errors.Is(err, errConnect):
		out.Code = "CONNECTFAILED"
	case errors.Is(err, ErrNotConnected), errors.Is(err, wireclient.ErrClosed):
		out.Code = "NOTCONNECTED"
	}
	return out
}

// connectReason describes why a dial failed without this program's internal
// package names: the network error itself where there is one ("dial tcp
// 127.0.0.1:1: connect: connection refused"), one per server tried.
func connectReason(err error) string {
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []string
		for _, e := range multi.Unwrap() {
			if r := connectReason(e); !slices.Contains(parts, r) {
				parts = append(parts, r)
			}
		}
		return strings.Join(parts, "; ")
	}
	var op *net.OpError
	switch {
	case errors.As(err, &op):
		return op.Error()
	case errors.Is(err, proto.ErrSessionExpired):
		return "the server refused the session (expired)"
	case errors.Is(err, proto.ErrConnectionLoss):
		return "the server closed the connection during the handshake"
	}
	return strings.ReplaceAll(err.Error(), "wireclient: ", "")
}

// usageError is zkCli's MalformedCommandException carrying the usage line.
func usageError(c *command) error {
	return &cliError{msg: c.name + " " + c.usage, err: errUsage}
}
