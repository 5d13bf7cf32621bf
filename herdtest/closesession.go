package herdtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/herd-io/herd/server/proto"
)

// errSessionGone reports a session the server would not attach: it has
// ended already.
var errSessionGone = errors.New("session already ended")

// closeSession attaches to session id with its password, as a second client
// holding the session's credentials can, and closes it. The wire exchange is
// done here with server/proto rather than a client package, so that herdtest
// stays importable by the clients' own tests.
func closeSession(ctx context.Context, addr string, id int64, passwd []byte) error {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	send := func(records ...proto.Record) error {
		e := proto.NewEncoder(nil)
		start := e.StartFrame()
		for _, r := range records {
			r.Encode(e)
		}
		e.EndFrame(start)
		_, err := nc.Write(e.Bytes())
		return err
	}
	if err := send(&proto.ConnectRequest{TimeOut: 10000, SessionID: id, Passwd: passwd}); err != nil {
		return err
	}
	body, err := proto.ReadFrame(nc, nil, 0)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	var resp proto.ConnectResponse
	dec := proto.NewDecoder(body, 0)
	resp.Decode(dec)
	switch {
	case dec.Err() != nil:
		return fmt.Errorf("handshake: %w", dec.Err())
	case resp.TimeOut <= 0:
		return errSessionGone
	case resp.SessionID != id:
		return fmt.Errorf("the server attached session 0x%x instead", resp.SessionID)
	}
	if err := send(&proto.RequestHeader{Xid: 1, Op: proto.OpCloseSession}); err != nil {
		return err
	}
	// The reply, or the server hanging up after it closed the session: both
	// mean the session is closed.
	body, err = proto.ReadFrame(nc, nil, 0)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("closeSession: %w", err)
	}
	var hdr proto.ReplyHeader
	dec = proto.NewDecoder(body, 0)
	hdr.Decode(dec)
	if dec.Err() == nil && hdr.Err != proto.ErrOK {
		return fmt.Errorf("closeSession: %w", hdr.Err)
	}
	return dec.Err()
}
