// Package wireclient is a small, raw ZooKeeper client: it speaks the wire
// protocol through server/proto, one request at a time per call, with no
// retries and no reconnection. It exists for what go-zookeeper/zk cannot do
// (addWatch, whoAmI, getEphemerals, removeWatches, create2's stat, chosen xids
// and raw bodies) and for conformance tests that need to see exactly what a
// server sends. herd shell builds its session handling on top of it.
//
// A Conn is one TCP connection bound to one session. Requests are answered in
// FIFO order; notifications arrive on Events. When the connection breaks,
// every pending and later call fails with an error wrapping ErrConnectionLoss;
// a caller that wants to keep the session dials again with the same SessionID
// and Passwd.
package wireclient
