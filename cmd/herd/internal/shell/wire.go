package shell

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
	"go.uber.org/zap"
)

// wireClient is the production Client: a session over internal/wireclient that
// reconnects as zkCli's client does, re-attaching the same session and
// re-sending its auth and watches.
type wireClient struct {
	servers []string
	opts    DialOptions
	onEvent func(Event)
	log     *zap.Logger
	stop    context.CancelFunc
	ctx     context.Context // ends when the client is closed
	done    chan struct{}   // closed when the session loop exits

	mu      sync.Mutex
	changed *sync.Cond // on mu: handled, conn or closed changed
	handled uint64     // notifications of conn the loop has dealt with
	conn    *wireclient.Conn
	state   string
	closed  bool
	expired bool // the server refused to re-attach the session
	next    int  // index of the server to try next
	auths   []proto.AuthPacket
	watches *watchSet
}

// Connection states as the Java client names them (ZooKeeper.States).
const (
	stateConnecting = "CONNECTING"
	stateConnected  = "CONNECTED"
	stateClosed     = "CLOSED"
)

// DialWire is the DialFunc that talks to real servers.
func DialWire(ctx context.Context, servers string, opts DialOptions, onEvent func(Event)) (Client, error) {
	return dialWire(ctx, servers, opts, onEvent, zap.NewNop())
}

func dialWire(ctx context.Context, servers string, opts DialOptions, onEvent func(Event), log *zap.Logger) (Client, error) {
	var list []string
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no server address in %q", servers)
	}
	lctx, stop := context.WithCancel(context.Background())
	w := &wireClient{servers: list, opts: opts, onEvent: onEvent, log: log, stop: stop, ctx: lctx,
		done: make(chan struct{}), state: stateConnecting, watches: newWatchSet()}
	w.changed = sync.NewCond(&w.mu)
	conn, err := w.firstConnect(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	w.conn, w.state = conn, stateConnected
	onEvent(Event{Type: proto.EventNone, State: StateSyncConnected})
	go w.loop(conn)
	return w, nil
}

// firstConnect retries the servers with backoff for up to ConnectTimeout, as
// zkCli keeps trying a server that is starting (it accepts connections and
// hangs up until it serves). The error is the last attempt's, not a timeout.
func (w *wireClient) firstConnect(ctx context.Context) (*wireclient.Conn, error) {
	limit := w.opts.ConnectTimeout
	if limit <= 0 {
		limit = defaultConnectTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	conn, err := backoff.RetryWithData(func() (*wireclient.Conn, error) {
		conn, err := w.dialAny(cctx, 0, nil, 0)
		if err != nil && cctx.Err() == nil {
			last = err
		}
		return conn, err
	}, backoff.WithContext(newBackoff(), cctx))
	if err != nil && last != nil {
		return nil, last
	}
	return conn, err
}

// newBackoff paces reconnection attempts.
func newBackoff() backoff.BackOff {
	return backoff.NewExponentialBackOff(backoff.WithInitialInterval(100*time.Millisecond),
		backoff.WithMaxInterval(2*time.Second), backoff.WithMaxElapsedTime(0))
}

// dialAny tries each server once, starting after the last one used.
func (w *wireClient) dialAny(ctx context.Context, sessionID int64, passwd []byte, lastZxid int64) (*wireclient.Conn, error) {
	var errs []error
	for range w.servers {
		w.mu.Lock()
		addr := w.servers[w.next%len(w.servers)]
		w.next++
		w.mu.Unlock()
		conn, err := wireclient.Dial(ctx, addr, wireclient.Options{
			SessionTimeout: time.Duration(w.opts.SessionTimeoutMs) * time.Millisecond,
			SessionID:      sessionID, Passwd: passwd, LastZxid: lastZxid,
			SendReadOnlyByte: true, ReadOnly: w.opts.ReadOnly, Logger: w.log,
		})
		if err == nil {
			return conn, nil
		}
		if errors.Is(err, wireclient.ErrSessionExpired) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// loop delivers events from each connection in turn and reconnects when one
// ends, until the client is closed or the session expires.
func (w *wireClient) loop(conn *wireclient.Conn) {
	defer close(w.done)
	for {
		for ev := range conn.Events() {
			if ev.Type == proto.EventNone {
				continue // end of connection; the channel closes next
			}
			e := Event{Type: ev.Type, State: KeeperState(ev.State), Path: ev.Path}
			w.mu.Lock()
			show := w.watches.deliver(e)
			w.mu.Unlock()
			if show {
				w.onEvent(e)
			}
			w.mu.Lock()
			w.handled++
			w.changed.Broadcast()
			w.mu.Unlock()
		}
		id, pw, last := conn.SessionID(), conn.Passwd(), conn.LastZxid()
		conn.Drop()
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return
		}
		w.conn, w.state, w.handled = nil, stateConnecting, 0
		w.changed.Broadcast()
		w.mu.Unlock()
		w.onEvent(Event{Type: proto.EventNone, State: StateDisconnected})
		next, err := w.reconnect(id, pw, last)
		if err != nil {
			w.mu.Lock()
			w.state = stateClosed
			w.expired = errors.Is(err, wireclient.ErrSessionExpired)
			w.mu.Unlock()
			if errors.Is(err, wireclient.ErrSessionExpired) {
				w.onEvent(Event{Type: proto.EventNone, State: StateExpired})
			}
			return
		}
		conn = next
	}
}

// reconnect re-attaches the session with backoff, then restores auth and
// watches before any new request can use the connection.
func (w *wireClient) reconnect(id int64, pw []byte, last int64) (*wireclient.Conn, error) {
	b := backoff.WithContext(newBackoff(), w.ctx)
	return backoff.RetryWithData(func() (*wireclient.Conn, error) {
		conn, err := w.dialAny(w.ctx, id, pw, last)
		if err != nil {
			if errors.Is(err, wireclient.ErrSessionExpired) {
				return nil, backoff.Permanent(err)
			}
			return nil, err
		}
		if err := w.restore(conn, last); err != nil {
			conn.Drop()
			return nil, err
		}
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			conn.Drop()
			return nil, backoff.Permanent(context.Canceled)
		}
		w.conn, w.state, w.handled = conn, stateConnected, 0
		w.changed.Broadcast()
		w.mu.Unlock()
		w.onEvent(Event{Type: proto.EventNone, State: StateSyncConnected})
		return conn, nil
	}, b)
}

// restore re-sends auth packets and SetWatches on a fresh connection.
func (w *wireClient) restore(conn *wireclient.Conn, last int64) error {
	w.mu.Lock()
	auths := append([]proto.AuthPacket(nil), w.auths...)
	op, sw, needed := w.watches.setWatches(last)
	w.mu.Unlock()
	for i := range auths {
		if _, err := conn.Do(w.ctx, proto.OpAuth, &auths[i], nil); err != nil {
			return fmt.Errorf("re-send auth %s: %w", auths[i].Scheme, err)
		}
	}
	if needed {
		if _, err := conn.Do(w.ctx, op, sw, nil); err != nil {
			return fmt.Errorf("re-send watches: %w", err)
		}
	}
	return nil
}

// do runs one request on the current connection; while reconnecting it fails
// with ConnectionLoss as the Java client's requests do.
func (w *wireClient) do(ctx context.Context, op proto.OpCode, req, resp proto.Record) error {
	w.mu.Lock()
	conn, closed, expired := w.conn, w.closed, w.expired
	w.mu.Unlock()
	switch {
	case expired:
		return proto.ErrSessionExpired
	case closed:
		return ErrNotConnected
	}
	if conn == nil {
		return wireclient.ErrConnectionLoss
	}
	_, err := conn.Do(ctx, op, req, resp)
	w.awaitEvents(conn, conn.Notifications())
	return err
}

// awaitEvents waits until the loop has shown the first n notifications of
// conn, so that the events a request triggered are printed before its output
// and scripts print the same thing on every run. The loop never blocks on the
// caller, so the wait is short; it ends early if conn is replaced or closed.
func (w *wireClient) awaitEvents(conn *wireclient.Conn, n uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.conn == conn && !w.closed && w.handled < n {
		w.changed.Wait()
	}
}

// State implements Client.
func (w *wireClient) State() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// Close implements Client: closeSession, then stop the session loop.
func (w *wireClient) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	conn := w.conn
	w.state = stateClosed
	w.changed.Broadcast()
	w.mu.Unlock()
	w.stop()
	var err error
	if conn != nil {
		err = conn.Close(ctx)
	}
	<-w.done
	w.onEvent(Event{Type: proto.EventNone, State: StateClosed})
	return err
}
