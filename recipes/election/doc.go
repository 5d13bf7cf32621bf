// Package election holds herd's leader-election recipes on framework:
// Latch (Curator's LeaderLatch) and Selector (Curator's LeaderSelector).
// Both use Curator's znode names, node data (the participant's id) and
// ordering, so Go and Curator participants on one path elect one leader.
//
// A Latch is a standing candidacy: Start joins, the participant is leader
// while its node is first, and HasLeadership, Await and Leadership follow
// it. A Selector runs a function for each term: Run waits for leadership,
// calls lead with a context that is cancelled the moment leadership can no
// longer be trusted, and gives leadership up when lead returns.
//
// Leadership is given up when the connection has been SUSPENDED longer than
// a grace (default 0: at once, Curator's standard error policy) or the
// session is LOST; each type's comment says what happens on SUSPENDED,
// RECONNECTED and LOST. Leadership is inferred by each participant from the
// order of the nodes, so after a partition two processes can briefly both
// believe they lead; protect side effects with the fencing token (Token,
// the node's creation zxid) or a transaction that checks the leader's node.
//
// Usage:
//
//	s := election.NewSelector(client, "/election/pool", hostname, election.AutoRequeue())
//	err := s.Run(ctx, func(ctx context.Context) error {
//		return leadUntil(ctx) // ctx ends when leadership is lost
//	})
package election
