package wireclient

import (
	"context"
	"errors"

	"github.com/herd-io/herd/server/proto"
)

// The operations of a Session take and return the caller's paths: the chroot
// of the connect string is added to requests and removed from replies and
// events, except where the Java client does not (getEphemerals).

// watchOp runs a read that may leave a watch and records the watch locally
// when the server registered it.
func (s *Session) watchOp(ctx context.Context, op proto.OpCode, path string, watch bool, resp proto.Record) error {
	err := s.do(ctx, op, &proto.PathWatchRequest{Path: serverPath(s.chroot, path), Watch: watch}, resp)
	if !watch {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil && op == proto.OpGetData, err == nil && op == proto.OpExists:
		s.watches.data[path] = true
	case errors.Is(err, proto.ErrNoNode) && op == proto.OpExists:
		// exists leaves a watch on a missing node: it fires on create.
		s.watches.exist[path] = true
	case err == nil:
		s.watches.child[path] = true
	}
	return err
}

// Create makes a node and returns its path (with a sequence number for
// sequential modes). It sends what zkCli's client would: createTTL for TTL
// modes, createContainer for containers, create otherwise.
func (s *Session) Create(ctx context.Context, path string, data []byte, acl []proto.ACL, mode proto.CreateMode, ttl int64) (string, error) {
	path = serverPath(s.chroot, path)
	var out string
	var err error
	switch {
	case mode.TTL():
		var r proto.Create2Response
		err = s.do(ctx, proto.OpCreateTTL, &proto.CreateTTLRequest{Path: path, Data: data, ACL: acl, Flags: mode, TTL: ttl}, &r)
		out = r.Path
	case mode == proto.ModeContainer:
		var r proto.Create2Response
		err = s.do(ctx, proto.OpCreateContainer, &proto.CreateRequest{Path: path, Data: data, ACL: acl, Flags: mode}, &r)
		out = r.Path
	default:
		var r proto.CreateResponse
		err = s.do(ctx, proto.OpCreate, &proto.CreateRequest{Path: path, Data: data, ACL: acl, Flags: mode}, &r)
		out = r.Path
	}
	if err != nil {
		return "", err
	}
	return s.clientPath(out), nil
}

// Delete removes a node at version (-1 for any).
func (s *Session) Delete(ctx context.Context, path string, version int32) error {
	return s.do(ctx, proto.OpDelete, &proto.DeleteRequest{Path: serverPath(s.chroot, path), Version: version}, nil)
}

// Exists returns path's stat; watch leaves a watch, also on a missing node.
func (s *Session) Exists(ctx context.Context, path string, watch bool) (proto.Stat, error) {
	var r proto.StatResponse
	err := s.watchOp(ctx, proto.OpExists, path, watch, &r)
	return r.Stat, err
}

// Get returns path's data and stat, optionally leaving a data watch.
func (s *Session) Get(ctx context.Context, path string, watch bool) ([]byte, proto.Stat, error) {
	var r proto.GetDataResponse
	err := s.watchOp(ctx, proto.OpGetData, path, watch, &r)
	return r.Data, r.Stat, err
}

// Set writes path's data at version (-1 for any).
func (s *Session) Set(ctx context.Context, path string, data []byte, version int32) (proto.Stat, error) {
	var r proto.StatResponse
	err := s.do(ctx, proto.OpSetData, &proto.SetDataRequest{Path: serverPath(s.chroot, path), Data: data, Version: version}, &r)
	return r.Stat, err
}

// Children lists path's children with its stat (getChildren2), optionally
// leaving a child watch.
func (s *Session) Children(ctx context.Context, path string, watch bool) ([]string, proto.Stat, error) {
	var r proto.GetChildren2Response
	err := s.watchOp(ctx, proto.OpGetChildren2, path, watch, &r)
	return r.Children, r.Stat, err
}

// GetACL returns path's ACL and stat.
func (s *Session) GetACL(ctx context.Context, path string) ([]proto.ACL, proto.Stat, error) {
	var r proto.GetACLResponse
	err := s.do(ctx, proto.OpGetACL, &proto.PathRequest{Path: serverPath(s.chroot, path)}, &r)
	return r.ACL, r.Stat, err
}

// SetACL replaces path's ACL at aclVersion (-1 for any).
func (s *Session) SetACL(ctx context.Context, path string, acl []proto.ACL, version int32) (proto.Stat, error) {
	var r proto.StatResponse
	err := s.do(ctx, proto.OpSetACL, &proto.SetACLRequest{Path: serverPath(s.chroot, path), ACL: acl, Version: version}, &r)
	return r.Stat, err
}

// Sync waits until the server has caught up with the leader.
func (s *Session) Sync(ctx context.Context, path string) error {
	return s.do(ctx, proto.OpSync, &proto.PathRequest{Path: serverPath(s.chroot, path)}, &proto.PathResponse{})
}

// AddAuth adds an identity to the session; it is re-sent after reconnects.
func (s *Session) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	p := proto.AuthPacket{Scheme: scheme, Auth: auth}
	if err := s.do(ctx, proto.OpAuth, &p, nil); err != nil {
		return err
	}
	s.mu.Lock()
	s.auths = append(s.auths, p)
	s.mu.Unlock()
	return nil
}

// WhoAmI returns the identities the server associates with the session.
func (s *Session) WhoAmI(ctx context.Context) ([]proto.ClientInfo, error) {
	var r proto.WhoAmIResponse
	err := s.do(ctx, proto.OpWhoAmI, nil, &r)
	return r.Infos, err
}

// GetEphemerals lists the session's ephemeral nodes whose path starts with
// prefix. As in the Java client, prefix and result are the server's paths:
// the chroot is not applied.
func (s *Session) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	var r proto.GetEphemeralsResponse
	err := s.do(ctx, proto.OpGetEphemerals, &proto.PathRequest{Path: prefix}, &r)
	return r.Paths, err
}

// GetAllChildrenNumber counts path's descendants.
func (s *Session) GetAllChildrenNumber(ctx context.Context, path string) (int32, error) {
	var r proto.CountResponse
	err := s.do(ctx, proto.OpGetAllChildrenNumber, &proto.PathRequest{Path: serverPath(s.chroot, path)}, &r)
	return r.Count, err
}

// AddWatch sets a persistent watch on path (mode proto.AddWatchPersistent or
// proto.AddWatchPersistentRecursive); it is re-registered after reconnects.
func (s *Session) AddWatch(ctx context.Context, path string, mode int32) error {
	if err := s.do(ctx, proto.OpAddWatch, &proto.AddWatchRequest{Path: serverPath(s.chroot, path), Mode: mode}, &proto.ErrorResponse{}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if mode == proto.AddWatchPersistentRecursive {
		s.watches.recursive[path] = true
	} else {
		s.watches.persistent[path] = true
	}
	return nil
}

// RemoveWatches removes this session's watches of typ on path, on the server
// too unless local. As in the Java client, it fails with proto.ErrNoWatcher
// when the session holds no such watch, and delivers a *WatchRemoved event
// to OnEvent for each watch it removes.
func (s *Session) RemoveWatches(ctx context.Context, path string, typ proto.WatcherType, local bool) error {
	s.mu.Lock()
	has := s.watches.has(path, typ)
	s.mu.Unlock()
	if !has {
		return proto.ErrNoWatcher
	}
	if !local {
		if err := s.do(ctx, proto.OpRemoveWatches, &proto.WatchesRequest{Path: serverPath(s.chroot, path), Type: typ}, nil); err != nil {
			return err
		}
	}
	s.mu.Lock()
	evs, _ := s.watches.remove(path, typ)
	s.mu.Unlock()
	for _, e := range evs {
		s.opts.OnEvent(e)
	}
	return nil
}

// Reconfig changes the ensemble's membership and returns the new config.
func (s *Session) Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, proto.Stat, error) {
	var r proto.GetDataResponse
	err := s.do(ctx, proto.OpReconfig, &proto.ReconfigRequest{JoiningServers: joining, LeavingServers: leaving,
		NewMembers: members, CurConfigID: fromConfig}, &r)
	return r.Data, r.Stat, err
}
