package shell

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"github.com/herd-io/herd/server/proto"
)

// Client is what the shell needs from a ZooKeeper session. The production
// implementation (wire.go) is a reconnecting internal/wireclient.Session;
// tests use an in-memory fake. Errors from the server wrap a proto.Error.
type Client interface {
	Create(ctx context.Context, path string, data []byte, acl []proto.ACL, mode proto.CreateMode, ttl int64) (string, error)
	Delete(ctx context.Context, path string, version int32) error
	Exists(ctx context.Context, path string, watch bool) (proto.Stat, error)
	Get(ctx context.Context, path string, watch bool) ([]byte, proto.Stat, error)
	Set(ctx context.Context, path string, data []byte, version int32) (proto.Stat, error)
	Children(ctx context.Context, path string, watch bool) ([]string, proto.Stat, error)
	GetACL(ctx context.Context, path string) ([]proto.ACL, proto.Stat, error)
	SetACL(ctx context.Context, path string, acl []proto.ACL, version int32) (proto.Stat, error)
	Sync(ctx context.Context, path string) error
	AddAuth(ctx context.Context, scheme string, auth []byte) error
	WhoAmI(ctx context.Context) ([]ClientInfo, error)
	GetEphemerals(ctx context.Context, prefix string) ([]string, error)
	GetAllChildrenNumber(ctx context.Context, path string) (int32, error)
	AddWatch(ctx context.Context, path string, mode int32) error
	RemoveWatches(ctx context.Context, path string, typ proto.WatcherType, local bool) error
	Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, proto.Stat, error)
	// State is the connection state as zkCli's prompt shows it (CONNECTED, CONNECTING, CLOSED).
	State() string
	// Close ends the session.
	Close(ctx context.Context) error
}

// ClientInfo is one identity the server associates with the session (whoami).
type ClientInfo struct {
	AuthScheme string `json:"authScheme"`
	User       string `json:"user"`
}

// Event is a watch or connection-state notification.
type Event struct {
	Type  proto.EventType
	State KeeperState
	Path  string
}

// KeeperState is the state half of a WatchedEvent (Watcher.Event.KeeperState).
type KeeperState int32

// Keeper states zkCli prints.
const (
	StateDisconnected  KeeperState = 0
	StateSyncConnected KeeperState = 3
	StateAuthFailed    KeeperState = 4
	StateExpired       KeeperState = -112
	StateClosed        KeeperState = 7
)

// String returns the Java enum name.
func (s KeeperState) String() string {
	switch s {
	case StateDisconnected:
		return "Disconnected"
	case StateSyncConnected:
		return "SyncConnected"
	case StateAuthFailed:
		return "AuthFailed"
	case StateExpired:
		return "Expired"
	case StateClosed:
		return "Closed"
	}
	return "Unknown"
}

// DialFunc opens a session to servers (a comma-separated host:port list) and
// delivers notifications to onEvent until the client is closed.
type DialFunc func(ctx context.Context, servers string, opts DialOptions, onEvent func(Event)) (Client, error)

// DialOptions are the session settings taken from the command line.
type DialOptions struct {
	// SessionTimeoutMs is the requested session timeout (zkCli's -timeout).
	SessionTimeoutMs int
	// ReadOnly asks for a read-only capable session (zkCli's -r).
	ReadOnly bool
	// ConnectTimeout bounds the first connection's retries; 0 means 10s.
	ConnectTimeout time.Duration
	// TLS, when set, speaks TLS to every server (their secureClientPort).
	TLS *tls.Config
}

// defaultConnectTimeout is how long the shell retries its first connection.
const defaultConnectTimeout = 10 * time.Second

// ErrNotConnected is returned for commands issued while no session is open.
//
//lint:ignore ST1005 zkCli prints this text as is, capital included.
var ErrNotConnected = errors.New("Not connected")
