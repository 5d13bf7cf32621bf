package cluster

import "errors"

// Errors a Node's calls return; compare with errors.Is.
var (
	// ErrConfig is wrapped by every refusal of a configuration.
	ErrConfig = errors.New("bad configuration")
	// ErrNoLeader means no leader is known: the node cannot commit anything.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrNotLeader is returned by a node asked to do what only the leader does.
	ErrNotLeader = errors.New("cluster: not the leader")
	// ErrOutcomeUnknown means a proposal may or may not have been applied: the
	// path to the leader broke before its outcome was known, or the entry
	// arrived here inside a snapshot, so its result was never computed here.
	ErrOutcomeUnknown = errors.New("cluster: outcome of proposal unknown")
	// ErrStaleTerm means an entry was appended in another leader term than the
	// one it was proposed in, and every replica ignored it.
	ErrStaleTerm = errors.New("cluster: entry from a stale leader term ignored")
	// ErrStreamBroken is returned by a Stream after one of its proposals failed:
	// later entries must not be applied without the failed one.
	ErrStreamBroken = errors.New("cluster: stream broken by an earlier failure")
	// ErrClosed is returned after Shutdown.
	ErrClosed = errors.New("cluster: node shut down")
)
