package wireclient

import (
	"crypto/tls"
	"time"

	"github.com/herd-io/herd/server/proto"
	"go.uber.org/zap"
)

// Options configure Dial.
type Options struct {
	// SessionTimeout is the requested session timeout; 0 means 30s (zkCli's default).
	SessionTimeout time.Duration
	// SessionID re-attaches to an existing session when non-zero.
	SessionID int64
	// Passwd is the session password for SessionID; nil sends 16 zero bytes.
	Passwd []byte
	// LastZxid is the highest zxid the client has seen (lastZxidSeen).
	LastZxid int64
	// SendReadOnlyByte appends the optional readOnly byte to the ConnectRequest,
	// as the Java client and kazoo do; go-zookeeper omits it.
	SendReadOnlyByte bool
	// ReadOnly is the value of that byte (Java's canBeReadOnly).
	ReadOnly bool
	// NoPings turns the keep-alive pings off (and with them the read
	// deadline), for tests that must see only the traffic they send; the
	// session then lives only as long as the caller keeps it busy.
	NoPings bool
	// MaxBuffer caps incoming frames; 0 means proto.DefaultMaxBuffer.
	MaxBuffer int
	// HandshakeTimeout bounds the TCP connect and the ConnectRequest's reply,
	// so a server that accepts but never answers (one still starting, or
	// frozen) is given up and the next one tried. 0 means a third of
	// SessionTimeout, so a re-attach can try again within the session, but
	// at least a second: the timeout asked for may be far below the one the
	// server grants (at least 2×tickTime), and a loaded machine is slow.
	HandshakeTimeout time.Duration
	// TLS, when set, speaks TLS to the server (a secureClientPort). An empty
	// ServerName is taken from the address's host, so the server's
	// certificate must name the host or IP the client dials.
	TLS *tls.Config
	// Logger receives debug logs; nil means no logging.
	Logger *zap.Logger
}

func (o *Options) defaults() {
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 30 * time.Second
	}
	if o.Passwd == nil {
		o.Passwd = make([]byte, 16)
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = proto.DefaultMaxBuffer
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = max(o.SessionTimeout/3, time.Second)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}
