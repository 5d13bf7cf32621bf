package wireclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/herd-io/herd/server/proto"
)

// RawConn is a bare TCP connection to a server with frame-level I/O and no
// protocol state: no session, no xids, no goroutines. Bad-input and
// conformance tests use it to send exactly the bytes they mean, malformed ones
// included, and to read exactly what comes back. Dial runs its handshake over
// one. The embedded net.Conn is there for writing arbitrary bytes, deadlines
// and Close.
type RawConn struct {
	net.Conn
	// MaxBuffer caps the frames ReadFrame accepts; 0 means proto.DefaultMaxBuffer.
	MaxBuffer int
}

// DialRaw opens a TCP connection to addr and sends nothing.
func DialRaw(ctx context.Context, addr string) (*RawConn, error) {
	return dialRaw(ctx, addr, nil)
}

// dialRaw opens a TCP connection, or a TLS one when cfg is set. The TLS
// handshake completes before it returns, so a server certificate the client
// does not trust fails the dial; a server's refusal of the client's own
// certificate comes, under TLS 1.3, with the first read.
func dialRaw(ctx context.Context, addr string, cfg *tls.Config) (*RawConn, error) {
	var nc net.Conn
	var err error
	if cfg != nil {
		d := tls.Dialer{Config: cfg}
		nc, err = d.DialContext(ctx, "tcp", addr)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("wireclient: dial %s: %w", addr, err)
	}
	return &RawConn{Conn: nc}, nil
}

// Send writes one frame holding the encodings of recs, in order: a
// ConnectRequest, or a RequestHeader and its body.
func (r *RawConn) Send(recs ...proto.Record) error {
	var e proto.Encoder
	start := e.StartFrame()
	for _, rec := range recs {
		rec.Encode(&e)
	}
	e.EndFrame(start)
	_, err := r.Write(e.Bytes())
	return err
}

// ReadFrame reads one length-prefixed frame and returns its payload.
func (r *RawConn) ReadFrame() ([]byte, error) {
	return proto.ReadFrame(r.Conn, nil, r.MaxBuffer)
}

// ReadReply reads one frame and splits it into its ReplyHeader and body.
func (r *RawConn) ReadReply() (proto.ReplyHeader, []byte, error) {
	frame, err := r.ReadFrame()
	if err != nil {
		return proto.ReplyHeader{}, nil, err
	}
	var hdr proto.ReplyHeader
	d := proto.NewDecoder(frame, r.MaxBuffer)
	hdr.Decode(d)
	return hdr, frame[len(frame)-d.Remaining():], d.Err()
}

// Handshake sends req and decodes the ConnectResponse. A server that closes
// the connection instead of answering yields the read error (io.EOF, or a
// reset); an expired session is a response with timeout 0, not an error here.
func (r *RawConn) Handshake(req *proto.ConnectRequest) (*proto.ConnectResponse, error) {
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	if err := r.Send(req); err != nil {
		return nil, err
	}
	frame, err := r.ReadFrame()
	if err != nil {
		return nil, err
	}
	var resp proto.ConnectResponse
	d := proto.NewDecoder(frame, r.MaxBuffer)
	resp.Decode(d)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("wireclient: connect response: %w", err)
	}
	return &resp, nil
}
