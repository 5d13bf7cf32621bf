package wireclient

import (
	"errors"

	"github.com/herd-io/herd/server/proto"
)

var (
	// ErrConnectionLoss is wrapped by every error caused by the TCP connection
	// ending. It is proto.ErrConnectionLoss, so errors.Is matches either name.
	ErrConnectionLoss error = proto.ErrConnectionLoss
	// ErrSessionExpired is returned by Dial when the server rejects the session
	// (timeout 0 in the ConnectResponse). It is proto.ErrSessionExpired.
	ErrSessionExpired error = proto.ErrSessionExpired
	// ErrClosed is wrapped by calls made after Close or Drop.
	ErrClosed = errors.New("wireclient: connection closed")
	// ErrXidMismatch reports a reply that does not answer the oldest pending request.
	ErrXidMismatch = errors.New("wireclient: reply xid out of order")
)
