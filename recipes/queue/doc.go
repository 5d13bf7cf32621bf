// Package queue holds two distributed queues: Queue, a FIFO with the layout
// of Curator's SimpleDistributedQueue (and of ZooKeeper's own queue recipe),
// and WorkQueue, a job queue that removes an item only once a handler
// succeeded with it.
//
// # Queue
//
//	<path>/                      container
//	├── qn-0000000007            persistent sequential, data = the item
//	├── qn-0000000008
//	└── taker-<uuid>             ephemeral, one per taking Queue value and session
//
// Put creates a qn- node; Take reads the lowest and deletes it in a
// transaction that also sets the taker's receipt node at its expected
// version. The receipt is what makes "each item to exactly one taker" hold
// when a connection fails mid-take: one versioned write afterwards tells
// whether the take applied (Curator cannot tell, and loses the item).
// Curator's and ZooKeeper's takers ignore taker- nodes. Takers list the queue
// once per batch of items, not once per item, and spread over the oldest few
// items once they meet competition.
//
// # WorkQueue
//
//	<path>/                                   container
//	├── items/                                container
//	│   ├── _c_<uuid>-item-<prio>-<due>-<n>-<seq>   persistent sequential (protected
//	│   │                                       create), data = the item; <n> = failed
//	│   │                                       deliveries so far, <due> = not before (ms)
//	│   └── item-<prio>-<due>-<n>-<seq>         an item put back after a failure
//	├── claims/                               container
//	│   └── <item name>                       ephemeral: held by a consumer, data = its id
//	├── producers/                            container
//	│   └── <uuid>-<k>                        ephemeral, a producer slot: one per Put in
//	│                                         progress at once per WorkQueue value and
//	│                                         session, data = the last Put's uuid (or
//	│                                         "fence:<uuid>")
//	├── consumers/                            container
//	│   └── <uuid>                            ephemeral, one per Consume call and session,
//	│                                         data = consumer id
//	└── dead/                                 container
//	    └── item-<prio>-0-<n>-<seq>           persistent sequential, data = the item (dead letter)
//
// Put takes an idle producer slot of its WorkQueue value (creating one if
// none is idle) and, in one transaction, sets the slot to the Put's uuid at
// the version it expects and creates the item (whose protected prefix
// carries the same uuid). The slot's version is what makes a Put whose reply
// was lost never apply twice, as the taker receipt does for Queue.Take: the
// retry is the same transaction, which fails with BadVersion if an earlier
// attempt applied (the slot then holds this Put's uuid), even if a consumer
// has handled and deleted the item since (a protected create's listing would
// not find the item then, and would create it again); and a late copy of an
// attempt fails the same way once a retry applied. A Put that ends while an
// attempt may still be in flight sets the slot alone to "fence:<uuid>" at
// that version, so that the attempt can never apply. The evidence is thus
// bounded by the number of concurrent Puts, not by the put rate: a value
// keeps at most as many slots as it has had Puts at once, each an ephemeral
// node that goes with its session (Close deletes the idle ones). If the
// session ends while an attempt's outcome is unknown, the slot that would
// tell goes with it and Put returns ErrMaybePut; with no attempt in doubt, a
// Put simply makes a slot in the new session. Consumers never read
// producers/.
//
// A consumer lists items/ (and claims/) into a local heap ordered by
// priority, then sequence, with delayed items on a timer, and lists again
// only when that is used up or, once something changed, when an eighth of it
// has been handed out, so a long backlog does not cost a listing per item.
// Once its claims collide with other consumers', it picks among the first
// few items of the best priority instead of strictly the first. To
// deliver an item it creates the item's claim (an existing claim means
// another consumer holds it), reads the item and runs the handler. It then
// settles in one transaction that also checks its consumer node, so it can
// never act on a claim another consumer made after this one's session ended:
//
//   - success: delete the item and the claim;
//   - failure: delete the item, create it again with <n>+1 and a due time
//     after a backoff, delete the claim; after MaxAttempts failures the new
//     node goes to dead/ instead;
//   - interrupted (see below): delete the claim, leaving the item as it was.
//
// A consumer that dies between claiming and settling leaves a claim that goes
// with its session; the others watch claims/ when nothing else is left and
// take the item then (at-least-once). A settle whose reply is lost is
// checked by reading the item back: if it is gone it was done.
//
// # Connection states
//
// Blocking calls take a context; operations that fail with a connection error
// are retried by the client's retry policy.
//   - Queue, SUSPENDED: Take waits on (its watch is restored on reconnect); a
//     take whose reply is lost is settled once connected again.
//   - Queue, RECONNECTED: nothing to do.
//   - Queue, LOST: the receipt went with the session and a new one is made;
//     a take in flight when the session ended may come back with
//     ErrMaybeTaken (the one case the receipt cannot settle).
//   - WorkQueue, SUSPENDED: running handlers' contexts are cancelled after
//     WithSuspendGrace (default at once), since their claims may be about to
//     go; no new item is claimed until the connection is back.
//   - WorkQueue, RECONNECTED (same session): claims are still held: an
//     interrupted handler's item is released (not counted as a failure) and
//     a handler that finished anyway is settled normally.
//   - WorkQueue, LOST: claims and the consumer node went with the session;
//     handlers are cancelled, their items will be delivered again, and
//     Consume registers again in the new session. Producer slots went with
//     the session too: a Put whose attempt was in doubt returns ErrMaybePut,
//     any other Put makes a slot in the new session.
package queue
