package server_test

import (
	"errors"
	"io"
	"testing"

	"github.com/herd-io/herd/herdtest"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// FuzzRequest sends arbitrary bytes as one request frame on an established
// session of a live server. Whatever the bytes, the server must answer or
// close that one connection, never hang or panic, and keep serving others:
//
//	go test -run '^$' -fuzz FuzzRequest -fuzztime 60s ./server/
func FuzzRequest(f *testing.F) {
	frame := func(op proto.OpCode, rec proto.Record) []byte {
		var e proto.Encoder
		(&proto.RequestHeader{Xid: 7, Op: op}).Encode(&e)
		if rec != nil {
			rec.Encode(&e)
		}
		return e.Bytes()
	}
	acl := proto.OpenACLUnsafe
	f.Add(frame(proto.OpCreate, &proto.CreateRequest{Path: "/f", Data: []byte("x"), ACL: acl}))
	f.Add(frame(proto.OpCreate2, &proto.CreateRequest{Path: "/f/s-", ACL: acl, Flags: proto.ModeEphemeralSequential}))
	f.Add(frame(proto.OpCreateContainer, &proto.CreateRequest{Path: "/c", ACL: acl, Flags: proto.ModeContainer}))
	f.Add(frame(proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/t", ACL: acl, Flags: proto.ModePersistentWithTTL, TTL: 1000}))
	f.Add(frame(proto.OpSetData, &proto.SetDataRequest{Path: "/f", Data: []byte("y"), Version: -1}))
	f.Add(frame(proto.OpDelete, &proto.DeleteRequest{Path: "/f", Version: -1}))
	f.Add(frame(proto.OpGetData, &proto.PathWatchRequest{Path: "/f", Watch: true}))
	f.Add(frame(proto.OpGetChildren2, &proto.PathWatchRequest{Path: "/", Watch: true}))
	f.Add(frame(proto.OpSetACL, &proto.SetACLRequest{Path: "/f", ACL: proto.CreatorAllACL, Version: -1}))
	f.Add(frame(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Op: proto.OpCreate, Create: &proto.CreateTTLRequest{Path: "/m", ACL: acl}},
		{Op: proto.OpCheck, Check: &proto.CheckVersionRequest{Path: "/m", Version: 0}},
	}}))
	f.Add(frame(proto.OpSetWatches2, &proto.SetWatches{V2: true, Data: []string{"/f"}, Persistent: []string{"/"}}))
	f.Add(frame(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: proto.AddWatchPersistentRecursive}))
	f.Add(frame(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}))
	f.Add(frame(proto.OpWhoAmI, nil))
	f.Add(frame(proto.OpCloseSession, nil))
	f.Add(frame(proto.OpCode(999), nil))
	f.Add([]byte{0, 0, 0, 1})

	s := herdtest.Start(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := rawDial(t, s.Addr)
		if r.connect(proto.ConnectRequest{TimeOut: 30000}) == nil {
			t.Fatal("no session")
		}
		if _, err := r.nc.Write(proto.AppendFrame(nil, data)); err != nil {
			t.Fatalf("write: %v", err)
		}
		// A ping after the fuzzed frame: its reply (or the connection closing)
		// proves the server finished with the frame; rawDial's deadline turns a
		// hang into a failure.
		_ = r.trySend(&proto.RequestHeader{Xid: proto.XidPing, Op: proto.OpPing})
		for {
			hdr, _, err := r.reply()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
					t.Fatalf("server neither answered nor closed: %v", err)
				}
				break
			}
			if hdr.Xid == proto.XidPing {
				break
			}
		}
		c := dial(t, s.Addr, wireclient.Options{})
		defer c.Drop()
		if _, err := c.Do(testCtx(t), proto.OpExists, &proto.PathWatchRequest{Path: "/zookeeper"}, &proto.StatResponse{}); err != nil {
			t.Fatalf("server stopped serving after %x: %v", data, err)
		}
	})
}
