package election

import "errors"

// ErrInvalidArgument reports a bad argument: a nil client, a nil lead
// function. No node is created.
var ErrInvalidArgument = errors.New("election: invalid argument")

// ErrNoLeader is returned by Leader when the election has no participant.
var ErrNoLeader = errors.New("election: no leader")

// ErrClosed is returned by a Latch's Await and Start after Close, and by
// Await once the latch stopped because its client closed.
var ErrClosed = errors.New("election: latch closed")

// ErrStarted is returned by a second Start of a Latch.
var ErrStarted = errors.New("election: latch already started")

// ErrLeadershipLost is returned by a Selector's Run (without AutoRequeue)
// when leadership was lost while lead ran and lead returned nil or its
// context's error.
var ErrLeadershipLost = errors.New("election: leadership lost")
