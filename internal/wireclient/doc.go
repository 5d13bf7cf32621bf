// Package wireclient is herd's one raw ZooKeeper client. It speaks the wire
// protocol through server/proto (the only codec) and exists for what
// go-zookeeper/zk cannot do: addWatch, whoAmI, getEphemerals,
// getAllChildrenNumber, removeWatches, chosen xids and raw bodies, and tests
// that must see exactly what a server sends. It has three levels:
//
//   - RawConn is a bare TCP connection with frame I/O and no protocol state,
//     for sending malformed or hand-made frames and reading raw replies.
//   - Conn is one TCP connection bound to one session: requests answered in
//     FIFO order, notifications on Events, no retries. When the connection
//     breaks, every pending and later call fails with an error wrapping
//     ErrConnectionLoss; dialling again with the same SessionID and Passwd
//     re-attaches the session.
//   - Session is a session over a connect string that reconnects across its
//     servers as the Java client does, re-sending auth and watches; herd
//     shell is built on it.
package wireclient
