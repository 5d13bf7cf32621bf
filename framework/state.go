package framework

// ConnectionState is the client's view of its ZooKeeper session, with Curator's
// names and rules (see Client.AddListener for when each one is delivered).
type ConnectionState int

// Connection states. The zero value is "not yet connected" and is never
// delivered to listeners.
const (
	// Connected is delivered once per Client, on its first session.
	Connected ConnectionState = iota + 1
	// Suspended means the connection to the server was lost; the session may
	// still be alive. Holders of locks or leadership should stop acting.
	Suspended
	// Reconnected means a connection is back after Suspended or Lost. After
	// Lost it is a new session: ephemeral nodes and watches of the old one are gone.
	Reconnected
	// Lost means the session is (or must be assumed) expired: the server said
	// so, or Suspended lasted longer than the session timeout.
	Lost
	// ReadOnly is a connection to a read-only server. go-zookeeper never
	// negotiates read-only mode, so it is defined only for completeness.
	ReadOnly
)

// String returns Curator's upper-case name of the state.
func (s ConnectionState) String() string {
	switch s {
	case Connected:
		return "CONNECTED"
	case Suspended:
		return "SUSPENDED"
	case Reconnected:
		return "RECONNECTED"
	case Lost:
		return "LOST"
	case ReadOnly:
		return "READ_ONLY"
	default:
		return "LATENT"
	}
}

// IsConnected reports whether operations can reach a server in this state.
func (s ConnectionState) IsConnected() bool {
	return s == Connected || s == Reconnected || s == ReadOnly
}
