package herdtest

import "time"

// SlowDisk makes every fsync of the node's Raft log take d longer (0 ends
// it), as a slow or failing disk does. It lasts across Restart.
func (n *Node) SlowDisk(d time.Duration) { n.faults.SlowDisk(d) }
