package integration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/herd-io/herd/server/proto"
)

// noCode marks a result that is not a server reply (connect, events, ...).
const noCode = math.MinInt32

// closeWait bounds how long a step waits for the server to close a connection.
// ZooKeeper closes at once; only a diverging server makes a step wait this long.
const closeWait = 5 * time.Second

// result is one step's normalised outcome.
type result struct {
	text string
	code int32 // reply err for requests, noCode otherwise
}

// step is one action of a script, run on one of the script's clients.
type step struct {
	client int
	desc   string
	act    func(ctx context.Context, r *runner, c int) result
	// expect, when set, is the error code the step must get. It checks the
	// script itself against the reference, not only that servers agree.
	expect *proto.Error
	// membership marks a step whose outcome shows the server's membership
	// (/zookeeper/config): a standalone server's and a cluster's differ by
	// design, so a cluster target is not compared on it.
	membership bool
}

// showsMembership marks s (see step.membership).
func (s step) showsMembership() step {
	s.membership = true
	return s
}

// want records the error code a step is written to provoke.
func (s step) want(code proto.Error) step {
	s.expect = &code
	return s
}

// script is a named request sequence; every server runs it from fresh clients.
type script struct {
	name  string
	steps []step
}

// savedSession is what a client needs to re-attach after a connection loss.
type savedSession struct {
	id       int64
	passwd   []byte
	lastZxid int64
}

// runner executes one script against one server, or one cluster with the
// script's clients spread over its nodes.
type runner struct {
	addrs   []string
	n       *normaliser
	clients map[int]*rawClient
	saved   map[int]savedSession
}

// addr is where client c connects: its own node of a cluster.
func (r *runner) addr(c int) string { return r.addrs[c%len(r.addrs)] }

// runScript runs sc against tg and returns one result per step. On a
// cluster, client c uses node c mod n, and before each step every node
// catches up with the leader (tg.Settle): ZooKeeper lets a server lag behind
// a write acknowledged at another, and the scripts read across clients. A
// step that shows the membership is run on a cluster with a scratch
// normaliser, so that zxids it alone shows do not shift the names of later ones.
func runScript(ctx context.Context, tg Target, sc script) []result {
	addrs := tg.Addrs
	if len(addrs) == 0 {
		addrs = []string{tg.Addr}
	}
	r := &runner{addrs: addrs, n: newNormaliser(), clients: map[int]*rawClient{}, saved: map[int]savedSession{}}
	defer r.closeAll()
	out := make([]result, len(sc.steps))
	for i, st := range sc.steps {
		if tg.Settle != nil {
			if err := tg.Settle(ctx); err != nil {
				out[i] = result{text: "settle failed: " + err.Error(), code: noCode}
				continue
			}
		}
		if st.membership && tg.Cluster {
			kept := r.n
			r.n = kept.clone()
			out[i] = st.act(ctx, r, st.client)
			r.n = kept
			continue
		}
		out[i] = st.act(ctx, r, st.client)
	}
	return out
}

// closeAll ends every session the script left open so that later scripts see
// the same tree on every server regardless of session expiry timing.
func (r *runner) closeAll() {
	for c, cl := range r.clients {
		ctx, cancel := context.WithTimeout(context.Background(), closeWait)
		_, _ = cl.do(ctx, proto.OpCloseSession, nil)
		cancel()
		cl.drop()
		delete(r.clients, c)
	}
}

func requestAct(op proto.OpCode, body []byte, out decoder) func(ctx context.Context, r *runner, c int) result {
	return func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		f, err := cl.do(ctx, op, body)
		return r.reply(f, err, out)
	}
}

// reply prints a reply header and, on success, its decoded body.
func (r *runner) reply(f frame, err error, out decoder) result {
	if errors.Is(err, errConnClosed) {
		return result{text: "connection closed without reply", code: noCode}
	}
	if err != nil {
		return result{text: "error: " + err.Error(), code: noCode}
	}
	text := fmt.Sprintf("err=%d zxid=%s", f.err, r.n.zxid(f.zxid))
	if f.err == 0 && out != nil {
		d := proto.NewDecoder(f.body, maxFrame)
		text += " " + out(d, r.n)
		if err := d.Err(); err != nil {
			text += " DECODE-ERROR(" + err.Error() + ")"
		}
		if d.Remaining() > 0 {
			text += fmt.Sprintf(" trailing=%d", d.Remaining())
		}
	} else if len(f.body) > 0 {
		text += fmt.Sprintf(" body=%d bytes", len(f.body))
	}
	return result{text: text, code: f.err}
}

// connect opens a new session for client c.
func connect(c int) step {
	return step{client: c, desc: "connect", act: func(ctx context.Context, r *runner, c int) result {
		cl, err := dialRaw(ctx, r.addr(c), 0, nil, 0)
		if err != nil {
			return result{text: "connect failed: " + err.Error(), code: noCode}
		}
		r.clients[c] = cl
		return result{text: fmt.Sprintf("session=%s timeout=%d pwlen=%d", r.n.session(cl.sessionID), cl.timeout, len(cl.passwd)), code: noCode}
	}}
}

// drop loses client c's connection without closing its session.
func drop(c int) step {
	return step{client: c, desc: "drop connection", act: func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		cl.drop()
		r.saved[c] = savedSession{id: cl.sessionID, passwd: cl.passwd, lastZxid: cl.lastZxid}
		delete(r.clients, c)
		return result{text: "dropped", code: noCode}
	}}
}

// reattach reconnects client c to its dropped session; badPassword flips the password.
func reattach(c int, badPassword bool) step {
	desc := "reattach"
	if badPassword {
		desc += " with a wrong password"
	}
	return step{client: c, desc: desc, act: func(ctx context.Context, r *runner, c int) result {
		s, ok := r.saved[c]
		if !ok {
			return result{text: "nothing to reattach", code: noCode}
		}
		pw := append([]byte{}, s.passwd...)
		if badPassword && len(pw) > 0 {
			pw[0] ^= 0xff
		}
		cl, err := dialRaw(ctx, r.addr(c), s.id, pw, s.lastZxid)
		if errors.Is(err, errExpired) {
			return result{text: "expired", code: noCode}
		}
		if err != nil {
			return result{text: "reattach failed: " + err.Error(), code: noCode}
		}
		r.clients[c] = cl
		return result{text: fmt.Sprintf("session=%s timeout=%d", r.n.session(cl.sessionID), cl.timeout), code: noCode}
	}}
}

// events collects the notifications client c has received. It first does a
// read on c: the server sends a connection's notifications before any later
// reply on it, so every event caused by earlier steps has arrived by then.
func events(c int) step { return eventsStep(c, false) }

// eventsUnordered is events for triggers whose order ZooKeeper leaves
// unspecified (a closed session's ephemerals are deleted in HashSet order).
func eventsUnordered(c int) step { return eventsStep(c, true) }

func eventsStep(c int, unordered bool) step {
	desc := "events"
	if unordered {
		desc += " (any order)"
	}
	return step{client: c, desc: desc, act: func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		if _, err := cl.do(ctx, proto.OpExists, encode(&proto.PathWatchRequest{Path: "/"})); err != nil {
			return result{text: "barrier failed: " + err.Error(), code: noCode}
		}
		var list []string
		for _, f := range cl.takeEvents() {
			list = append(list, r.n.event(f))
		}
		if unordered {
			sort.Strings(list)
		}
		return result{text: fmt.Sprintf("%q", list), code: noCode}
	}}
}

// closedByServer waits for the server to close client c's connection.
func closedByServer(c int) step {
	return step{client: c, desc: "expect the server to close", act: func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		wctx, cancel := context.WithTimeout(ctx, closeWait)
		defer cancel()
		if err := cl.waitClosed(wctx); err != nil {
			return result{text: "still open", code: noCode}
		}
		cl.drop()
		delete(r.clients, c)
		return result{text: "closed", code: noCode}
	}}
}

// closeSession sends closeSession (-11), then waits for the server to close.
func closeSession(c int) step {
	return step{client: c, desc: "closeSession", act: func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		f, err := cl.do(ctx, proto.OpCloseSession, nil)
		res := r.reply(f, err, nil)
		wctx, cancel := context.WithTimeout(ctx, closeWait)
		defer cancel()
		if cl.waitClosed(wctx) != nil {
			res.text += "; still open"
		} else {
			res.text += "; closed"
		}
		cl.drop()
		delete(r.clients, c)
		return res
	}}
}

// auth sends an AuthPacket with xid -4, as kazoo and Java do. A failed auth
// must be followed by the server closing the connection.
func auth(c int, scheme, cred string) step { return authXid(c, proto.XidAuth, scheme, cred) }

// authXid is auth with a chosen xid: go-zookeeper sends auth with an ordinary
// positive xid, which the server must echo.
func authXid(c int, xid int32, scheme, cred string) step {
	return step{client: c, desc: fmt.Sprintf("auth xid=%d %s %q", xid, scheme, cred), act: func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		f, err := cl.doXid(ctx, xid, proto.OpAuth, encode(&proto.AuthPacket{Scheme: scheme, Auth: []byte(cred)}))
		res := r.reply(f, err, nil)
		if err == nil && f.err != 0 {
			wctx, cancel := context.WithTimeout(ctx, closeWait)
			defer cancel()
			if cl.waitClosed(wctx) != nil {
				res.text += "; still open"
			} else {
				res.text += "; closed"
			}
			cl.drop()
			delete(r.clients, c)
		}
		return res
	}}
}

// ping sends a ping (xid -2); the reply echoes -2 and carries the last zxid.
func ping(c int) step {
	return step{client: c, desc: "ping", act: func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		f, err := cl.doXid(ctx, proto.XidPing, proto.OpPing, nil)
		return r.reply(f, err, nil)
	}}
}

// setWatches re-registers watches with relativeZxid = the client's last seen
// zxid, as the Java client does after a reconnect; op 105 adds the persistent lists.
func setWatches(c int, op proto.OpCode, lists ...[]string) step {
	return step{client: c, desc: fmt.Sprintf("%v %q", op, lists), act: func(ctx context.Context, r *runner, c int) result {
		cl := r.clients[c]
		if cl == nil {
			return result{text: "no connection", code: noCode}
		}
		f, err := cl.do(ctx, op, setWatchesBody(op, cl.lastZxid, lists...))
		return r.reply(f, err, nil)
	}}
}
