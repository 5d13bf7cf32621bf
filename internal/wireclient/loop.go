package wireclient

import (
	"context"
	"fmt"
	"time"

	"github.com/herd-io/herd/server/proto"
	"go.uber.org/zap"
)

// readLoop reads replies and notifications until the connection ends. A read
// times out after two thirds of the session timeout, as the Java client's does:
// pings every third keep traffic flowing on a healthy connection. Without
// pings (Options.NoPings) there is no deadline: the server ends the connection.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	var d proto.Decoder
	buf := make([]byte, 0, 4096)
	for {
		if !c.noPings {
			_ = c.nc.SetReadDeadline(time.Now().Add(c.timeout * 2 / 3))
		}
		frame, err := proto.ReadFrame(c.nc, buf, c.maxBuffer)
		if err != nil {
			c.fail(fmt.Errorf("%w: read: %w", ErrConnectionLoss, err))
			return
		}
		d.Reset(frame, c.maxBuffer)
		var hdr proto.ReplyHeader
		hdr.Decode(&d)
		if err := d.Err(); err != nil {
			c.fail(fmt.Errorf("%w: reply header: %w", ErrConnectionLoss, err))
			return
		}
		body := append([]byte(nil), frame[len(frame)-d.Remaining():]...)
		switch hdr.Xid {
		case proto.XidNotification:
			var ev proto.WatcherEvent
			bd := proto.NewDecoder(body, c.maxBuffer)
			ev.Decode(bd)
			if err := bd.Err(); err != nil {
				c.fail(fmt.Errorf("%w: notification: %w", ErrConnectionLoss, err))
				return
			}
			c.events.push(Event{Type: ev.Type, State: ev.State, Path: ev.Path, Zxid: hdr.Zxid, Trailing: bd.Remaining()})
			c.notified.Add(1)
		default:
			if err := c.complete(hdr, body); err != nil {
				c.fail(fmt.Errorf("%w: %w", ErrConnectionLoss, err))
				return
			}
		}
	}
}

// complete hands a reply to the oldest pending call, which it must answer. A
// ping reply answers a caller's ping (DoXid with proto.XidPing) at the head of
// the queue; otherwise it is the pinger's and only logged.
func (c *Conn) complete(hdr proto.ReplyHeader, body []byte) error {
	c.mu.Lock()
	if hdr.Xid == proto.XidPing && (len(c.pending) == 0 || c.pending[0].xid != proto.XidPing) {
		c.mu.Unlock()
		c.log.Debug("ping reply", zap.Int64("zxid", hdr.Zxid))
		return nil
	}
	if len(c.pending) == 0 || c.pending[0].xid != hdr.Xid {
		want := int32(0)
		if len(c.pending) > 0 {
			want = c.pending[0].xid
		}
		c.mu.Unlock()
		return fmt.Errorf("%w: got %d, want %d", ErrXidMismatch, hdr.Xid, want)
	}
	cl := c.pending[0]
	c.pending = c.pending[1:]
	c.mu.Unlock()
	// Auth replies carry zxid 0; only real zxids advance lastZxidSeen.
	if hdr.Zxid > c.lastZxid.Load() && cl.op != proto.OpAuth {
		c.lastZxid.Store(hdr.Zxid)
	}
	cl.hdr, cl.body = hdr, body
	close(cl.done)
	return nil
}

// pingLoop sends a ping every third of the session timeout.
func (c *Conn) pingLoop() {
	defer c.wg.Done()
	if c.noPings {
		return
	}
	t := time.NewTicker(c.timeout / 3)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
			c.writeMu.Lock()
			err := c.writeFrame(proto.XidPing, proto.OpPing, nil)
			c.writeMu.Unlock()
			if err != nil {
				c.fail(fmt.Errorf("%w: ping: %w", ErrConnectionLoss, err))
				return
			}
		}
	}
}

// fail ends the connection once: it records why, fails every pending call,
// closes the socket and reports the disconnection on Events.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	closing := c.closing
	c.mu.Unlock()
	if !closing {
		c.log.Debug("connection lost", zap.Error(err))
	}
	_ = c.nc.Close()
	close(c.quit)
	for _, cl := range pending {
		cl.err = err
		close(cl.done)
	}
	c.events.push(Event{Type: proto.EventNone, State: StateDisconnected, Zxid: -1})
	c.events.end()
}

// Close ends the session: it sends closeSession, waits for the reply (or for
// ctx to end), then closes the connection and stops its goroutines. Closing
// twice, or after the connection was lost, returns the error of the failed
// closeSession and still releases everything.
func (c *Conn) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	_, err := c.Do(ctx, proto.OpCloseSession, nil, nil)
	c.shutdown(fmt.Errorf("%w: closed", ErrClosed))
	return err
}

// Drop closes the TCP connection without closeSession, leaving the session to
// expire on the server (a simulated client crash).
func (c *Conn) Drop() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.shutdown(fmt.Errorf("%w: dropped", ErrClosed))
}

func (c *Conn) shutdown(reason error) {
	c.fail(reason)
	c.stopOnce.Do(func() { close(c.events.stop) })
	c.wg.Wait()
	<-c.events.exited
}
