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
	"go.uber.org/zap"
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

// methodReconfig is the leader's handler for reconfig requests that
// arrive at other members.
const methodReconfig = "reconfig"

// reconfig handles ZooKeeper's reconfig op on a cluster member with
// reconfigEnabled. Authorisation is checked here (WRITE on /zookeeper/config,
// which only the super user has); the leader then turns the request into
// Raft membership changes (cluster.Node.ChangeMembers) and answers with
// /zookeeper/config as it reads after them. This node replies once it has
// applied the change too (so the client reads its own write here), unless
// the change removed it: a removed node never receives the entry that
// removes it, so it answers with the leader's reply at once.
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
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, reconfigTimeout)
		defer cancel()
		var reply []byte
		var err error
		if c.srv.leading() {
			reply, err = c.srv.handleReconfig(c.srv.cfg.ServerID, body)
		} else {
			reply, err = c.srv.node.CallLeader(ctx, methodReconfig, body)
		}
		if err != nil {
			s.async <- asyncReply{err: err}
			return
		}
		d := proto.NewDecoder(reply, len(reply))
		zxid, code := d.Int64(), proto.Error(d.Int32())
		if d.Err() != nil {
			s.async <- asyncReply{err: errors.New("server: bad reconfig reply from the leader")}
			return
		}
		if code != proto.ErrOK {
			answer(code)
			return
		}
		resp := &proto.GetDataResponse{}
		resp.Decode(d)
		if d.Err() != nil {
			s.async <- asyncReply{err: errors.New("server: bad reconfig reply from the leader")}
			return
		}
		if listsServer(resp.Data, c.srv.cfg.ServerID) {
			if err := c.srv.node.WaitApplied(ctx, uint64(zxid)); err != nil {
				s.async <- asyncReply{err: err}
				return
			}
		}
		s.async <- asyncReply{hdr: &proto.ReplyHeader{Xid: s.hdr.Xid, Zxid: zxid}, resp: resp}
	}()
	return s
}

// handleReconfig runs a reconfig request on the leader. Its reply is the
// zxid of the change, an error code and, on success, the GetDataResponse of
// /zookeeper/config after it.
func (s *Server) handleReconfig(from int, body []byte) ([]byte, error) {
	var enc proto.Encoder
	fail := func(code proto.Error) ([]byte, error) {
		enc.Int64(s.fsm.LastZxid())
		enc.Int32(int32(code))
		return enc.Bytes(), nil
	}
	var r proto.ReconfigRequest
	d := proto.NewDecoder(body, s.cfg.MaxBuffer)
	r.Decode(d)
	if d.Err() != nil {
		return fail(proto.ErrMarshallingError)
	}
	current, _, err := s.node.Members()
	if err != nil {
		return nil, err
	}
	change, err := parseReconfig(&r, current)
	if err != nil {
		s.log.Info("bad reconfig request", zap.Int("from", from), zap.Error(err))
		return fail(proto.ErrBadArguments)
	}
	ctx, cancel := context.WithTimeout(context.Background(), reconfigTimeout)
	defer cancel()
	index, err := s.node.ChangeMembers(ctx, change)
	switch {
	case errors.Is(err, cluster.ErrConfigChanged):
		return fail(proto.ErrBadVersion)
	case errors.Is(err, cluster.ErrConfig):
		s.log.Info("reconfig refused", zap.Int("from", from), zap.Error(err))
		return fail(proto.ErrBadArguments)
	case err != nil:
		return nil, err
	}
	resp := &proto.GetDataResponse{}
	s.fsm.Read(func(t *tree.Tree) {
		resp.Stat, _ = t.Stat(configPath)
		resp.Data, _, _ = t.GetData(tree.Caller{Super: true}, configPath)
	})
	s.log.Info("membership changed", zap.Uint64("version", index), zap.ByteString("config", resp.Data))
	enc.Int64(int64(index))
	enc.Int32(int32(proto.ErrOK))
	resp.Encode(&enc)
	return enc.Bytes(), nil
}

// listsServer reports whether /zookeeper/config data names server id.
func listsServer(config []byte, id int) bool {
	prefix := "server." + strconv.Itoa(id) + "="
	for _, l := range strings.Split(string(config), "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
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
