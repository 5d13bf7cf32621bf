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

// Curator's defaults: 60 s session, 15 s connection timeout, exponential
// backoff from 1 s, 3 retries.
func defaultOptions() options {
	return options{
		sessionTimeout:    60 * time.Second,
		connectionTimeout: 15 * time.Second,
		retry:             ExponentialBackoff(time.Second, 3, 0),
		logger:            zap.NewNop(),
		acl:               zk.WorldACL(zk.PermAll),
	}
}

// WithSessionTimeout sets the session timeout requested from the server. The
// timeout the server grants (see Client.SessionTimeout) is how long SUSPENDED
// may last before the client declares LOST.
func WithSessionTimeout(d time.Duration) Option {
	return func(o *options) { o.sessionTimeout = d }
}

// WithConnectionTimeout bounds how long an operation waits for a connection
// before its first attempt (the attempt then fails and goes through the retry
// policy).
func WithConnectionTimeout(d time.Duration) Option {
	return func(o *options) { o.connectionTimeout = d }
}

// WithRetryPolicy sets the policy used to retry operations that failed with a
// retryable error (see IsRetryable).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(o *options) { o.retry = p }
}

// WithLogger sets the zap logger for the client and for go-zookeeper's own
// messages (which otherwise go to the standard logger).
func WithLogger(l *zap.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithDigestAuth adds "digest" credentials ("user:password") to every session.
func WithDigestAuth(user, password string) Option {
	return WithAuth("digest", []byte(user+":"+password))
}

// WithAuth adds credentials of any scheme to every session.
func WithAuth(scheme string, auth []byte) Option {
	return func(o *options) { o.auth = append(o.auth, authInfo{scheme, auth}) }
}

// WithDefaultACL sets the ACL for nodes created without an explicit ACL,
// including parents and the namespace node. The default is world:anyone all.
func WithDefaultACL(acl []zk.ACL) Option {
	return func(o *options) { o.acl = acl }
}

// WithDialer sets the dialer go-zookeeper uses to reach servers.
func WithDialer(d zk.Dialer) Option {
	return func(o *options) { o.dialer = d }
}
