// Package framework is a Curator-style ZooKeeper client for Go, built on
// github.com/go-zookeeper/zk. It works against herd and Apache ZooKeeper
// alike, and the recipes are built on it. It takes care of what every
// application otherwise rewrites:
//
//   - connection states with Curator's rules (CONNECTED, SUSPENDED,
//     RECONNECTED, LOST; LOST is also decided client-side when SUSPENDED
//     outlasts the session timeout, and a new session follows), delivered in
//     order to listeners or a channel without blocking the connection;
//   - retries with a RetryPolicy (on cenkalti/backoff) of what is safe to
//     retry, and never a blind repeat of a non-idempotent write: sequential
//     creates use protection (Curator's "_c_<uuid>-" names) to find their node
//     again after a connection loss, or fail with ErrMaybeApplied;
//   - operations taking a context.Context: Create (all modes, parents as
//     persistent nodes or containers, TTL, protection), Get, Set, Exists,
//     Children, Delete (versioned, guaranteed, recursive), Txn, Sync, ACLs;
//     errors wrap go-zookeeper's sentinels (errors.Is(err, zk.ErrNoNode));
//   - DataWatch and ChildrenWatch, kazoo-style watches that re-arm themselves
//     across reconnects and new sessions, with a lifetime of their own
//     (Watch.Stop), the latest value (Watch.Current) and a channel of
//     changes (Watch.Events);
//   - namespaces: a chroot in the connect string ("host:2181/app") or
//     Client.Namespace, plus EnsurePath.
//
// Usage (error handling shortened):
//
//	c, err := framework.New("127.0.0.1:2181/myapp", framework.WithSessionTimeout(15*time.Second))
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	c.AddListener(func(s framework.ConnectionState) { log.Println("connection:", s) })
//	_, err = c.Create(ctx, "/config", []byte("v1"), framework.WithParents())
//	w, err := c.DataWatch(ctx, "/config", func(data []byte, st *zk.Stat) bool {
//		fmt.Printf("config: %s\n", data)
//		return true // keep watching
//	})
//	defer w.Stop() // ctx bounded the first read only
//	_, err = c.Set(ctx, "/config", []byte("v2"), framework.WithVersion(0))
//
// Recipes that hold exclusive rights (locks, leadership) must stop acting on
// SUSPENDED and consider their ephemeral nodes gone on LOST. Client.Session
// gives them a handle on the current session: its Done closes on LOST, and
// Session.Fence closes when SUSPENDED has lasted longer than a chosen grace.
//
// Every blocking method takes a context; cancelling it abandons the wait, but
// a request already handed to go-zookeeper may still be applied by the server.
// Listener and watch callbacks run on goroutines of their own, and Close does
// not wait for one that blocks.
//
// Errors read "framework: <operation> <path>: <cause>" and wrap the cause:
// the package's sentinels (ErrClosed, ErrInvalidPath, ErrMaybeApplied, ...)
// or go-zookeeper's (zk.ErrNoNode, ...), for errors.Is.
package framework
