package shell

import (
	"context"
	"errors"

	"github.com/herd-io/herd/server/proto"
)

// watchOp runs a read that may leave a watch and records the watch locally
// when the server registered it.
func (w *wireClient) watchOp(ctx context.Context, op proto.OpCode, path string, watch bool, resp proto.Record) error {
	err := w.do(ctx, op, &proto.PathWatchRequest{Path: path, Watch: watch}, resp)
	if !watch {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil && op == proto.OpGetData, err == nil && op == proto.OpExists:
		w.watches.data[path] = true
	case errors.Is(err, proto.ErrNoNode) && op == proto.OpExists:
		// exists leaves a watch on a missing node: it fires on create.
		w.watches.exist[path] = true
	case err == nil:
		w.watches.child[path] = true
	}
	return err
}

// Create implements Client with the opcode zkCli's client would use.
func (w *wireClient) Create(ctx context.Context, path string, data []byte, acl []proto.ACL, mode proto.CreateMode, ttl int64) (string, error) {
	switch {
	case mode.TTL():
		var r proto.Create2Response
		err := w.do(ctx, proto.OpCreateTTL, &proto.CreateTTLRequest{Path: path, Data: data, ACL: acl, Flags: mode, TTL: ttl}, &r)
		return r.Path, err
	case mode == proto.ModeContainer:
		var r proto.Create2Response
		err := w.do(ctx, proto.OpCreateContainer, &proto.CreateRequest{Path: path, Data: data, ACL: acl, Flags: mode}, &r)
		return r.Path, err
	}
	var r proto.CreateResponse
	err := w.do(ctx, proto.OpCreate, &proto.CreateRequest{Path: path, Data: data, ACL: acl, Flags: mode}, &r)
	return r.Path, err
}

// Delete implements Client.
func (w *wireClient) Delete(ctx context.Context, path string, version int32) error {
	return w.do(ctx, proto.OpDelete, &proto.DeleteRequest{Path: path, Version: version}, nil)
}

// Exists implements Client.
func (w *wireClient) Exists(ctx context.Context, path string, watch bool) (proto.Stat, error) {
	var r proto.StatResponse
	err := w.watchOp(ctx, proto.OpExists, path, watch, &r)
	return r.Stat, err
}

// Get implements Client.
func (w *wireClient) Get(ctx context.Context, path string, watch bool) ([]byte, proto.Stat, error) {
	var r proto.GetDataResponse
	err := w.watchOp(ctx, proto.OpGetData, path, watch, &r)
	return r.Data, r.Stat, err
}

// Set implements Client.
func (w *wireClient) Set(ctx context.Context, path string, data []byte, version int32) (proto.Stat, error) {
	var r proto.StatResponse
	err := w.do(ctx, proto.OpSetData, &proto.SetDataRequest{Path: path, Data: data, Version: version}, &r)
	return r.Stat, err
}

// Children implements Client (getChildren2, so the parent's stat comes along).
func (w *wireClient) Children(ctx context.Context, path string, watch bool) ([]string, proto.Stat, error) {
	var r proto.GetChildren2Response
	err := w.watchOp(ctx, proto.OpGetChildren2, path, watch, &r)
	return r.Children, r.Stat, err
}

// GetACL implements Client.
func (w *wireClient) GetACL(ctx context.Context, path string) ([]proto.ACL, proto.Stat, error) {
	var r proto.GetACLResponse
	err := w.do(ctx, proto.OpGetACL, &proto.PathRequest{Path: path}, &r)
	return r.ACL, r.Stat, err
}

// SetACL implements Client.
func (w *wireClient) SetACL(ctx context.Context, path string, acl []proto.ACL, version int32) (proto.Stat, error) {
	var r proto.StatResponse
	err := w.do(ctx, proto.OpSetACL, &proto.SetACLRequest{Path: path, ACL: acl, Version: version}, &r)
	return r.Stat, err
}

// Sync implements Client.
func (w *wireClient) Sync(ctx context.Context, path string) error {
	return w.do(ctx, proto.OpSync, &proto.PathRequest{Path: path}, &proto.PathResponse{})
}

// AddAuth implements Client; the identity is re-sent after reconnects.
func (w *wireClient) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	p := proto.AuthPacket{Scheme: scheme, Auth: auth}
	if err := w.do(ctx, proto.OpAuth, &p, nil); err != nil {
		return err
	}
	w.mu.Lock()
	w.auths = append(w.auths, p)
	w.mu.Unlock()
	return nil
}

// WhoAmI implements Client.
func (w *wireClient) WhoAmI(ctx context.Context) ([]ClientInfo, error) {
	var r proto.WhoAmIResponse
	if err := w.do(ctx, proto.OpWhoAmI, nil, &r); err != nil {
		return nil, err
	}
	out := make([]ClientInfo, len(r.Infos))
	for i, in := range r.Infos {
		out[i] = ClientInfo{AuthScheme: in.AuthScheme, User: in.User}
	}
	return out, nil
}

// GetEphemerals implements Client.
func (w *wireClient) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	var r proto.GetEphemeralsResponse
	err := w.do(ctx, proto.OpGetEphemerals, &proto.PathRequest{Path: prefix}, &r)
	return r.Paths, err
}

// GetAllChildrenNumber implements Client.
func (w *wireClient) GetAllChildrenNumber(ctx context.Context, path string) (int32, error) {
	var r proto.CountResponse
	err := w.do(ctx, proto.OpGetAllChildrenNumber, &proto.PathRequest{Path: path}, &r)
	return r.Count, err
}

// AddWatch implements Client.
func (w *wireClient) AddWatch(ctx context.Context, path string, mode int32) error {
	if err := w.do(ctx, proto.OpAddWatch, &proto.AddWatchRequest{Path: path, Mode: mode}, &proto.ErrorResponse{}); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if mode == proto.AddWatchPersistentRecursive {
		w.watches.recursive[path] = true
	} else {
		w.watches.persistent[path] = true
	}
	return nil
}

// RemoveWatches implements Client. As in the Java client, it fails with
// NoWatcher when this client holds no such watch, and delivers a
// *WatchRemoved event for each watch it removes.
func (w *wireClient) RemoveWatches(ctx context.Context, path string, typ proto.WatcherType, local bool) error {
	w.mu.Lock()
	has := w.watches.has(path, typ)
	w.mu.Unlock()
	if !has {
		return proto.ErrNoWatcher
	}
	if !local {
		if err := w.do(ctx, proto.OpRemoveWatches, &proto.WatchesRequest{Path: path, Type: typ}, nil); err != nil {
			return err
		}
	}
	w.mu.Lock()
	evs, _ := w.watches.remove(path, typ)
	w.mu.Unlock()
	for _, e := range evs {
		w.onEvent(e)
	}
	return nil
}

// Reconfig implements Client.
func (w *wireClient) Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, proto.Stat, error) {
	var r proto.GetDataResponse
	err := w.do(ctx, proto.OpReconfig, &proto.ReconfigRequest{JoiningServers: joining, LeavingServers: leaving,
		NewMembers: members, CurConfigID: fromConfig}, &r)
	return r.Data, r.Stat, err
}
