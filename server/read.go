package server

import (
	"strings"

	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/tree"
	"github.com/herd-io/herd/server/watch"
)

// read answers a request that does not change the tree. It runs on the
// responder, so every earlier request of the connection has already finished,
// and under the tree's read lock, so the result and any watch it registers are
// atomic with respect to writes. emit queues the reply, also under the lock:
// a write that fires a watch set here can only be applied after the lock is
// released, so its notification always follows the reply that set the watch
// (a client drops a notification for a watch it has not yet registered).
func (c *conn) read(s *slot, emit func(proto.ReplyHeader, proto.Record)) {
	c.srv.fsm.Read(func(t *tree.Tree) {
		resp, err := c.readLocked(t, s)
		emit(proto.ReplyHeader{Xid: s.hdr.Xid, Zxid: c.srv.fsm.LastZxid(), Err: proto.Code(err)}, resp)
	})
}

// readLocked runs the read s against t; the caller holds the read lock.
func (c *conn) readLocked(t *tree.Tree, s *slot) (resp proto.Record, err error) {
	w := c.srv.watches
	{
		switch s.hdr.Op {
		case proto.OpPing:
			// Header only.
		case proto.OpExists:
			r := s.req.(*proto.PathWatchRequest)
			var st proto.Stat
			st, err = t.Exists(s.caller, r.Path)
			// exists leaves a watch even on a missing node: it fires on creation.
			if r.Watch && (err == nil || proto.Code(err) == proto.ErrNoNode) {
				w.AddData(r.Path, c)
			}
			resp = &proto.StatResponse{Stat: st}
		case proto.OpGetData:
			r := s.req.(*proto.PathWatchRequest)
			var data []byte
			var st proto.Stat
			data, st, err = t.GetData(s.caller, r.Path)
			if r.Watch && err == nil {
				w.AddData(r.Path, c)
			}
			resp = &proto.GetDataResponse{Data: data, Stat: st}
		case proto.OpGetChildren, proto.OpGetChildren2:
			r := s.req.(*proto.PathWatchRequest)
			var kids []string
			var st proto.Stat
			kids, st, err = t.GetChildren(s.caller, r.Path)
			if r.Watch && err == nil {
				w.AddChild(r.Path, c)
			}
			if kids == nil {
				kids = []string{}
			}
			if s.hdr.Op == proto.OpGetChildren {
				resp = &proto.GetChildrenResponse{Children: kids}
			} else {
				resp = &proto.GetChildren2Response{Children: kids, Stat: st}
			}
		case proto.OpGetACL:
			r := s.req.(*proto.PathRequest)
			var acl []proto.ACL
			var st proto.Stat
			acl, st, err = t.GetACL(s.caller, r.Path)
			resp = &proto.GetACLResponse{ACL: acl, Stat: st}
		case proto.OpSync:
			// Every earlier write of this connection is applied, and the
			// replica has caught up with the leader's commit point (finish).
			resp = &proto.PathResponse{Path: s.req.(*proto.PathRequest).Path}
		case proto.OpGetAllChildrenNumber:
			var n int32
			n, err = t.AllChildrenNumber(s.caller, s.req.(*proto.PathRequest).Path)
			resp = &proto.CountResponse{Count: n}
		case proto.OpGetEphemerals:
			prefix := s.req.(*proto.PathRequest).Path
			if strings.TrimSpace(prefix) == "" {
				prefix = "/"
			}
			paths := t.Ephemerals(s.caller.Session, prefix)
			if paths == nil {
				paths = []string{}
			}
			resp = &proto.GetEphemeralsResponse{Paths: paths}
		case proto.OpMultiRead:
			resp = &proto.MultiResponse{Results: t.MultiRead(s.caller, s.req.(*proto.MultiRequest).Ops)}
		case proto.OpWhoAmI:
			resp = whoAmI(s.caller.Ids)
		case proto.OpSetWatches, proto.OpSetWatches2:
			c.setWatches(t, s.req.(*proto.SetWatches))
		case proto.OpAddWatch:
			r := s.req.(*proto.AddWatchRequest)
			switch r.Mode {
			case proto.AddWatchPersistent:
				w.AddPersistent(r.Path, c, false)
			case proto.AddWatchPersistentRecursive:
				w.AddPersistent(r.Path, c, true)
			default:
				// ZooKeeper 3.8 fails to decode an unknown mode.
				err = proto.ErrMarshallingError
			}
			// The Java client decodes this body, so it must be sent.
			resp = &proto.ErrorResponse{Err: proto.ErrOK}
		case proto.OpCheckWatches, proto.OpRemoveWatches:
			r := s.req.(*proto.WatchesRequest)
			if r.Type < proto.WatcherChildren || r.Type > proto.WatcherAny {
				// 3.8 knows only Children, Data and Any here.
				return nil, proto.ErrMarshallingError
			}
			var found bool
			if s.hdr.Op == proto.OpCheckWatches {
				found = w.Check(r.Path, c, r.Type)
			} else {
				found = w.Remove(r.Path, c, r.Type)
			}
			if !found {
				err = proto.ErrNoWatcher
			}
		default:
			err = proto.ErrUnimplemented
		}
	}
	return resp, err
}

// setWatches re-arms the watches a client held before it reconnected and sends,
// first, the events it missed since relativeZxid (DataTree.setWatches).
func (c *conn) setWatches(t *tree.Tree, r *proto.SetWatches) {
	w := c.srv.watches
	notify := func(typ proto.EventType, path string) {
		c.Notify(watchEvent(typ, path))
	}
	for _, p := range r.Data {
		st, ok := t.Stat(p)
		switch {
		case !ok:
			notify(proto.EventNodeDeleted, p)
		case st.Mzxid > r.RelativeZxid:
			notify(proto.EventNodeDataChanged, p)
		default:
			w.AddData(p, c)
		}
	}
	for _, p := range r.Exist {
		if _, ok := t.Stat(p); ok {
			notify(proto.EventNodeCreated, p)
		} else {
			w.AddData(p, c)
		}
	}
	for _, p := range r.Child {
		st, ok := t.Stat(p)
		switch {
		case !ok:
			notify(proto.EventNodeDeleted, p)
		case st.Pzxid > r.RelativeZxid:
			notify(proto.EventNodeChildrenChanged, p)
		default:
			w.AddChild(p, c)
		}
	}
	for _, p := range r.Persistent {
		w.AddPersistent(p, c, false)
	}
	for _, p := range r.PersistentRecursive {
		w.AddPersistent(p, c, true)
	}
}

func whoAmI(ids []proto.Id) *proto.WhoAmIResponse {
	out := &proto.WhoAmIResponse{Infos: []proto.ClientInfo{}}
	for _, id := range ids {
		user := id.ID
		if id.Scheme == "digest" {
			if i := strings.IndexByte(user, ':'); i >= 0 {
				user = user[:i]
			}
		}
		out.Infos = append(out.Infos, proto.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return out
}

func watchEvent(typ proto.EventType, path string) watch.Event {
	return watch.Event{Type: typ, Path: path, Zxid: -1}
}
