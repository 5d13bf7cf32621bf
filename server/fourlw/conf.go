package fourlw

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herd-io/herd/server/zoocfg"
)

// ConfFromConfig returns conf's lines for cfg in ZooKeeper 3.8's order
// (ZooKeeperServer.dumpConf, plus QuorumZooKeeperServer's lines for an
// ensemble). dataDirSize and logDirSize are bytes on disk. herd has no secure
// port or listen backlog, so those print -1 as ZooKeeper does when unset.
func ConfFromConfig(cfg *zoocfg.Config, dataDirSize, logDirSize int64) []KV {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	port := cfg.ClientPort
	kvs := []KV{
		{Key: "clientPort", Value: strconv.Itoa(port)},
		{Key: "secureClientPort", Value: "-1"},
		{Key: "dataDir", Value: cfg.DataDir},
		{Key: "dataDirSize", Value: itoa(dataDirSize)},
		{Key: "dataLogDir", Value: cfg.DataLogDir},
		{Key: "dataLogSize", Value: itoa(logDirSize)},
		{Key: "tickTime", Value: ms(cfg.TickTime)},
		{Key: "maxClientCnxns", Value: strconv.Itoa(cfg.MaxClientCnxns)},
		{Key: "minSessionTimeout", Value: ms(cfg.MinSessionTimeout)},
		{Key: "maxSessionTimeout", Value: ms(cfg.MaxSessionTimeout)},
		{Key: "clientPortListenBacklog", Value: "-1"},
		{Key: "serverId", Value: strconv.Itoa(cfg.MyID)},
	}
	if !cfg.Distributed() {
		return kvs
	}
	me := cfg.Servers[cfg.MyID]
	peerType := "0" // LearnerType ordinal: PARTICIPANT
	if me.Role == zoocfg.RoleObserver {
		peerType = "1"
	}
	kvs = append(kvs,
		KV{Key: "initLimit", Value: strconv.Itoa(cfg.InitLimit)},
		KV{Key: "syncLimit", Value: strconv.Itoa(cfg.SyncLimit)},
		KV{Key: "electionAlg", Value: "3"},
		KV{Key: "electionPort", Value: strconv.Itoa(me.ElectionPort)},
		KV{Key: "quorumPort", Value: strconv.Itoa(me.PeerPort)},
		KV{Key: "peerType", Value: peerType},
		KV{Key: "membership: ", Bare: true},
	)
	ids := make([]int, 0, len(cfg.Servers))
	for id := range cfg.Servers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s := cfg.Servers[id]
		v := hostForJava(s.Host) + ":" + strconv.Itoa(s.PeerPort) + ":" + strconv.Itoa(s.ElectionPort) + ":" + s.Role
		if s.ClientAddr != "" {
			v += ";" + s.ClientAddr
		}
		kvs = append(kvs, KV{Key: "server." + strconv.Itoa(id), Value: v})
	}
	// A static configuration has version 0.
	return append(kvs, KV{Key: "version", Value: "0"})
}

// hostForJava brackets IPv6 literals as ZooKeeper's delimitedHostString does.
func hostForJava(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}
