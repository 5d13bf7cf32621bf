package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrFrameTooLarge is wrapped by ReadFrame errors for a length prefix that is
// negative or larger than the limit; the connection must be closed.
var ErrFrameTooLarge = errors.New("proto: frame length out of range")

// ReadFrame reads one length-prefixed packet from r and returns its payload.
// The payload is read into buf when it fits (so a connection can reuse one
// buffer) and into a new slice otherwise; either way it is only valid until
// buf is reused. A length < 0 or > maxLen (maxLen <= 0 means DefaultMaxBuffer)
// is rejected before anything is allocated. A clean end of stream before the
// first length byte returns io.EOF; a stream cut inside a frame returns
// io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, buf []byte, maxLen int) ([]byte, error) {
	var hdr []byte
	if cap(buf) >= 4 {
		hdr = buf[:4]
	} else {
		hdr = make([]byte, 4)
	}
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	return ReadFrameBody(r, int32(binary.BigEndian.Uint32(hdr)), buf, maxLen)
}

// ReadFrameBody reads the payload of a frame whose length prefix was already
// read, as the server must do after checking the first four bytes of a
// connection for a four-letter word. Buffer reuse and limits are as in
// ReadFrame; an empty stream here is io.ErrUnexpectedEOF.
func ReadFrameBody(r io.Reader, length int32, buf []byte, maxLen int) ([]byte, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxBuffer
	}
	if length < 0 || int64(length) > int64(maxLen) {
		return nil, fmt.Errorf("%w: %d (max %d)", ErrFrameTooLarge, length, maxLen)
	}
	n := int(length)
	var p []byte
	if cap(buf) >= n {
		p = buf[:n]
	} else {
		p = make([]byte, n)
	}
	if _, err := io.ReadFull(r, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return p, nil
}

// AppendFrame appends payload to dst behind its big-endian int32 length.
func AppendFrame(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}
