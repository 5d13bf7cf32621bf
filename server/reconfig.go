package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/herd-io/herd/server/cluster"
	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
)

// asyncReply is the outcome of a request finished beside the pipeline. A nil
// hdr means "answer as a read" (sync).
type asyncReply struct {
	err  error
	hdr  *proto.ReplyHeader
	resp proto.Record
}

// reconfigTimeout bounds one membership change: each Raft configuration
// change commits in a round trip, but a new member may need a snapshot first.
const reconfigTimeout = 30 * time.Second

// configPath is the znode that shows the membership.
const configPath = "/zookeeper/config"

// reconfig handles ZooKeeper's reconfig op on a cluster member with
// reconfigEnabled: the change becomes Raft membership changes on the leader
// (see cluster.Node.ChangeMembers), and the reply carries /zookeeper/config
// as it reads once the last change is applied here.
func (c *conn) reconfig(s *slot, body []byte) *slot {
	s.async = make(chan asyncReply, 1)
	answer := func(code proto.Error) *slot {
		s.async <- asyncReply{hdr: &proto.ReplyHeader{Xid: s.hdr.Xid, Zxid: c.srv.fsm.LastZxid(), Err: code}}
		return s
	}
	var r proto.ReconfigRequest
	d := proto.NewDecoder(body, c.srv.cfg.MaxBuffer)
	r.Decode(d)
	if d.Err() != nil {
		return answer(proto.ErrMarshallingError)
	}
	var permErr error
	c.srv.fsm.Read(func(t *tree.Tree) { permErr = t.CheckPerm(s.caller, configPath, proto.PermWrite) })
	if permErr != nil {
		return answer(proto.Code(permErr))
	}
	current, _, err := c.srv.node.Members()
	if err != nil {
		return answer(proto.ErrSystemError)
	}
	change, err := parseReconfig(&r, current)
	if err != nil {
		c.log.Info("bad reconfig request", zapErr(err))
		return answer(proto.ErrBadArguments)
	}
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, reconfigTimeout)
		defer cancel()
		_, err := c.srv.node.ChangeMembers(ctx, change)
		switch {
		case errors.Is(err, cluster.ErrConfigChanged):
			answer(proto.ErrBadVersion)
			return
		case errors.Is(err, cluster.ErrConfig):
			answer(proto.ErrBadArguments)
			return
		case err != nil:
			s.async <- asyncReply{err: err}
			return
		}
		resp := &proto.GetDataResponse{}
		hdr := &proto.ReplyHeader{Xid: s.hdr.Xid}
		c.srv.fsm.Read(func(t *tree.Tree) {
			hdr.Zxid = c.srv.fsm.LastZxid()
			resp.Stat, _ = t.Stat(configPath)
			resp.Data, _, _ = t.GetData(tree.Caller{Super: true}, configPath)
		})
		s.async <- asyncReply{hdr: hdr, resp: resp}
	}()
	return s
}

// parseReconfig turns a reconfig request into a membership change: either
// incremental (joiningServers "server.N=…" lines and leavingServers ids, each
// comma-separated) or the whole new membership (newMembers).
func parseReconfig(r *proto.ReconfigRequest, current []cluster.Member) (cluster.Change, error) {
	var c cluster.Change
	if r.CurConfigID != -1 {
		if r.CurConfigID < 0 {
			return c, errors.New("curConfigId must be -1 or a version")
		}
		c.Version = uint64(r.CurConfigID)
	}
	lines := func(s string) []string {
		var out []string
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		return out
	}
	if nm := lines(r.NewMembers); len(nm) > 0 {
		keep := map[int]bool{}
		for _, l := range nm {
			m, err := cluster.ParseMember(0, l)
			if err != nil {
				return c, err
			}
			keep[m.ID] = true
			c.Add = append(c.Add, m)
		}
		for _, m := range current {
			if !keep[m.ID] {
				c.Remove = append(c.Remove, m.ID)
			}
		}
		return c, nil
	}
	for _, l := range lines(r.JoiningServers) {
		m, err := cluster.ParseMember(0, l)
		if err != nil {
			return c, err
		}
		c.Add = append(c.Add, m)
	}
	for _, l := range lines(r.LeavingServers) {
		id, err := strconv.Atoi(strings.TrimPrefix(l, "server."))
		if err != nil || id <= 0 {
			return c, errors.New("leavingServers: " + strconv.Quote(l) + " is not a server id")
		}
		c.Remove = append(c.Remove, id)
	}
	if len(c.Add) == 0 && len(c.Remove) == 0 {
		return c, errors.New("reconfig with no change")
	}
	return c, nil
}
