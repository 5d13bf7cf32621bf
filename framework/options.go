package framework

import (
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"
)

// Option configures New.
type Option func(*options)

type options struct {
	sessionTimeout    time.Duration
	connectionTimeout time.Duration
	retry             RetryPolicy
	logger            *zap.Logger
	auth              []authInfo
	acl               []zk.ACL
	dialer            zk.Dialer
}

type authInfo struct {
	scheme string
	auth   []byte
}

// The defaults are Curator's; each option's documentation states its own.
const (
	defaultSessionTimeout    = 60 * time.Second
	defaultConnectionTimeout = 15 * time.Second
)

// defaultRetry is ExponentialBackoff(time.Second, 3, 0).
func defaultRetry() RetryPolicy { return ExponentialBackoff(time.Second, 3, 0) }

func defaultOptions() options {
	return options{
		sessionTimeout:    defaultSessionTimeout,
		connectionTimeout: defaultConnectionTimeout,
		retry:             defaultRetry(),
		logger:            zap.NewNop(),
		acl:               zk.WorldACL(zk.PermAll),
	}
}

// WithSessionTimeout sets the session timeout requested from the server. The
// default is 60s. The server clamps it to its bounds (2 to 20 ticks unless
// configured otherwise); the timeout it grants (see Client.SessionTimeout) is
// how long SUSPENDED may last before the client declares LOST.
func WithSessionTimeout(d time.Duration) Option {
	return func(o *options) { o.sessionTimeout = d }
}

// WithConnectionTimeout bounds how long an operation waits for a connection
// before each attempt (the attempt then fails and goes through the retry
// policy). The default is 15s.
func WithConnectionTimeout(d time.Duration) Option {
	return func(o *options) { o.connectionTimeout = d }
}

// WithRetryPolicy sets the policy used to retry operations that failed with a
// retryable error (see IsRetryable). The default is
// ExponentialBackoff(time.Second, 3, 0): at most 3 retries, sleeping about
// 1s, 2s and 4s.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(o *options) { o.retry = p }
}

// WithLogger sets the zap logger for the client and for go-zookeeper's own
// messages (logged at debug level). The default discards every message, so
// neither the client nor go-zookeeper writes to stdout or stderr.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithDigestAuth adds "digest" credentials ("user:password") to every
// session. The default is no credentials.
func WithDigestAuth(user, password string) Option {
	return WithAuth("digest", []byte(user+":"+password))
}

// WithAuth adds credentials of any scheme to every session, before the
// session is reported connected. The default is no credentials.
func WithAuth(scheme string, auth []byte) Option {
	return func(o *options) { o.auth = append(o.auth, authInfo{scheme, auth}) }
}

// WithDefaultACL sets the ACL for nodes created without an explicit ACL,
// including parents and the namespace node. The default is world:anyone
// with all permissions (zk.WorldACL(zk.PermAll)).
func WithDefaultACL(acl []zk.ACL) Option {
	return func(o *options) { o.acl = acl }
}

// WithDialer sets the dialer go-zookeeper uses to reach servers. The default
// is net.DialTimeout.
func WithDialer(d zk.Dialer) Option {
	return func(o *options) { o.dialer = d }
}
