package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/herd-io/herd/internal/wireclient"
	"github.com/herd-io/herd/server/proto"
)

// regOpKind is what a register operation does.
type regOpKind int

const (
	regGet    regOpKind = iota // sync, then get: a linearizable read
	regSet                     // set with a version (-1: any)
	regCreate                  // create
	regDelete                  // delete any version
)

// regInput is one operation on register Key.
type regInput struct {
	Key     int
	Kind    regOpKind
	Value   string
	Version int32 // regSet's expected version
}

// regOutput is what the server answered; Unknown when no answer came.
type regOutput struct {
	Unknown bool
	Err     proto.Error // 0, ErrNoNode, ErrNodeExists or ErrBadVersion
	Value   string
	Version int32
}

// regState is one register: a znode that exists (with data and version) or not.
type regState struct {
	Exists  bool
	Value   string
	Version int32
}

// RegisterModel is the porcupine model of the register workload: one znode
// per key (partitioned by key), with get, versioned set, create and delete.
// An operation whose outcome is unknown takes effect if its precondition
// holds where porcupine places it (and porcupine may place it after
// everything, which is "it never happened").
var RegisterModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(regInput).Key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]int, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() interface{} { return regState{} },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		s, in, out := state.(regState), input.(regInput), output.(regOutput)
		switch in.Kind {
		case regGet:
			if !s.Exists {
				return out.Err == proto.ErrNoNode, s
			}
			return out.Err == 0 && out.Value == s.Value && out.Version == s.Version, s
		case regSet:
			can := s.Exists && (in.Version == -1 || in.Version == s.Version)
			next := regState{Exists: true, Value: in.Value, Version: s.Version + 1}
			switch {
			case out.Unknown:
				if can {
					return true, next
				}
				return true, s
			case out.Err == 0:
				return can && out.Version == next.Version, next
			case out.Err == proto.ErrNoNode:
				return !s.Exists, s
			case out.Err == proto.ErrBadVersion:
				return s.Exists && !can, s
			}
		case regCreate:
			next := regState{Exists: true, Value: in.Value}
			switch {
			case out.Unknown:
				if !s.Exists {
					return true, next
				}
				return true, s
			case out.Err == 0:
				return !s.Exists, next
			case out.Err == proto.ErrNodeExists:
				return s.Exists, s
			}
		case regDelete:
			switch {
			case out.Unknown:
				return true, regState{}
			case out.Err == 0:
				return s.Exists, regState{}
			case out.Err == proto.ErrNoNode:
				return !s.Exists, s
			}
		}
		return false, s
	},
	Equal: func(a, b interface{}) bool { return a.(regState) == b.(regState) },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(regInput), output.(regOutput)
		var res string
		switch {
		case out.Unknown:
			res = "?"
		case out.Err != 0:
			res = out.Err.Error()
		case in.Kind == regGet:
			res = fmt.Sprintf("%q v%d", out.Value, out.Version)
		default:
			res = fmt.Sprintf("ok v%d", out.Version)
		}
		switch in.Kind {
		case regGet:
			return fmt.Sprintf("k%d sync+get -> %s", in.Key, res)
		case regSet:
			return fmt.Sprintf("k%d set(%q, v%d) -> %s", in.Key, in.Value, in.Version, res)
		case regCreate:
			return fmt.Sprintf("k%d create(%q) -> %s", in.Key, in.Value, res)
		default:
			return fmt.Sprintf("k%d delete -> %s", in.Key, res)
		}
	},
	DescribeState: func(state interface{}) string {
		s := state.(regState)
		if !s.Exists {
			return "absent"
		}
		return fmt.Sprintf("%q v%d", s.Value, s.Version)
	},
}

// plainRead is a get without sync, checked for per-client monotonicity:
// it must not show a register older than the client had seen.
type plainRead struct {
	Client   int
	Key      int
	Seen     int64 // the highest zxid the client had seen when it called
	Err      proto.Error
	Mzxid    int64
	CallTime int64
}

// ackedWrite is a write the server acknowledged, with its zxid.
type ackedWrite struct {
	Key    int
	Kind   regOpKind
	Zxid   int64
	Client int
}

// Registers is the register workload: Clients clients run random
// operations on Keys znodes under Root, each through a connection to a
// random node, reconnecting (with its lastZxidSeen) when a connection fails.
type Registers struct {
	// Addrs are the servers the clients dial.
	Addrs []string
	// Root is the parent of the registers; it must exist.
	Root string
	// Keys and Clients size the workload.
	Keys, Clients int
	// SessionTimeout is the clients' session timeout.
	SessionTimeout time.Duration
	// OpTimeout bounds each request; one that times out has an unknown outcome.
	OpTimeout time.Duration
	// Seed seeds the clients' choices.
	Seed uint64

	start time.Time
	wg    sync.WaitGroup

	mu      sync.Mutex
	history []porcupine.Operation
	reads   []plainRead
	writes  []ackedWrite
	unknown map[int]int // unknown-outcome deletes per key
	stats   struct{ ops, unknown, reconnects int }
}

// Start runs the clients until ctx ends; Wait waits for them.
func (r *Registers) Start(ctx context.Context) {
	r.start = time.Now()
	r.unknown = map[int]int{}
	for id := 0; id < r.Clients; id++ {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.client(ctx, id)
		}()
	}
}

// Wait waits for the clients to stop.
func (r *Registers) Wait() { r.wg.Wait() }

func (r *Registers) now() int64 { return int64(time.Since(r.start)) }

func (r *Registers) path(k int) string { return fmt.Sprintf("%s/k%d", r.Root, k) }

func (r *Registers) client(ctx context.Context, id int) {
	rng := rand.New(rand.NewPCG(r.Seed, uint64(id)))
	var (
		conn    *wireclient.Conn
		seen    int64
		n       int
		version = map[int]int32{} // the version this client last saw per key
	)
	defer func() {
		if conn != nil {
			conn.Drop()
		}
	}()
	for ctx.Err() == nil {
		if conn == nil {
			dctx, cancel := context.WithTimeout(ctx, r.OpTimeout)
			c, err := wireclient.Dial(dctx, r.Addrs[rng.IntN(len(r.Addrs))],
				wireclient.Options{SessionTimeout: r.SessionTimeout, LastZxid: seen, HandshakeTimeout: r.OpTimeout})
			cancel()
			if err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Millisecond): // back off before the next server
				}
				continue
			}
			conn = c
			r.mu.Lock()
			r.stats.reconnects++
			r.mu.Unlock()
		}
		k := rng.IntN(r.Keys)
		n++
		value := fmt.Sprintf("c%d-%d", id, n)
		in := regInput{Key: k, Value: value}
		var (
			out  regOutput
			zxid int64
			err  error
		)
		octx, cancel := context.WithTimeout(ctx, r.OpTimeout)
		call := r.now()
		switch p := rng.IntN(100); {
		case p < 25: // plain read, checked for monotonicity only
			var resp proto.GetDataResponse
			seenAtCall := seen
			var hdr proto.ReplyHeader
			hdr, err = conn.Do(octx, proto.OpGetData, &proto.PathWatchRequest{Path: r.path(k)}, &resp)
			zxid = hdr.Zxid
			if code, ok := answered(err); ok {
				r.mu.Lock()
				r.reads = append(r.reads, plainRead{Client: id, Key: k, Seen: seenAtCall, Err: code, Mzxid: resp.Stat.Mzxid, CallTime: call})
				r.stats.ops++
				r.mu.Unlock()
				if code == 0 {
					version[k] = resp.Stat.Version
				}
			}
			cancel()
			seen = max(seen, zxid)
			if err != nil && !isCode(err) {
				conn.Drop()
				conn = nil
			}
			continue
		case p < 50:
			in.Kind = regGet
			var hdr proto.ReplyHeader
			if hdr, err = conn.Do(octx, proto.OpSync, &proto.PathRequest{Path: r.path(k)}, &proto.PathResponse{}); err == nil {
				var resp proto.GetDataResponse
				hdr, err = conn.Do(octx, proto.OpGetData, &proto.PathWatchRequest{Path: r.path(k)}, &resp)
				out.Value, out.Version = string(resp.Data), resp.Stat.Version
				if err == nil {
					version[k] = resp.Stat.Version
				}
			}
			zxid = hdr.Zxid
		case p < 75:
			in.Kind = regSet
			in.Version = -1
			if v, ok := version[k]; ok && rng.IntN(4) != 0 {
				in.Version = v
			}
			var resp proto.StatResponse
			var hdr proto.ReplyHeader
			hdr, err = conn.Do(octx, proto.OpSetData, &proto.SetDataRequest{Path: r.path(k), Data: []byte(value), Version: in.Version}, &resp)
			zxid, out.Version = hdr.Zxid, resp.Stat.Version
			if err == nil {
				version[k] = resp.Stat.Version
			}
		case p < 88:
			in.Kind = regCreate
			var hdr proto.ReplyHeader
			hdr, err = conn.Do(octx, proto.OpCreate, &proto.CreateRequest{Path: r.path(k), Data: []byte(value), ACL: proto.OpenACLUnsafe}, &proto.CreateResponse{})
			zxid = hdr.Zxid
			if err == nil {
				version[k] = 0
			}
		default:
			in.Kind = regDelete
			var hdr proto.ReplyHeader
			hdr, err = conn.Do(octx, proto.OpDelete, &proto.DeleteRequest{Path: r.path(k), Version: -1}, nil)
			zxid = hdr.Zxid
		}
		cancel()
		ret := r.now()
		code, ok := answered(err)
		if ok {
			out.Err = code
			seen = max(seen, zxid)
		} else {
			out.Unknown = true
			ret = math.MaxInt64
		}
		if !ok || !isCode(err) && err != nil {
			conn.Drop()
			conn = nil
		}
		r.mu.Lock()
		r.stats.ops++
		switch {
		case in.Kind == regGet && !ok:
			// A read that got no answer constrains nothing.
		default:
			r.history = append(r.history, porcupine.Operation{ClientId: id, Input: in, Output: out, Call: call, Return: ret})
		}
		if !ok && in.Kind != regGet {
			r.stats.unknown++
			if in.Kind == regDelete {
				r.unknown[k]++
			}
		}
		if ok && code == 0 && in.Kind != regGet {
			r.writes = append(r.writes, ackedWrite{Key: k, Kind: in.Kind, Zxid: zxid, Client: id})
		}
		r.mu.Unlock()
	}
}

// answered says whether err is an answer the workload models (nil or one
// of the register error codes) and returns the code; any other error (a
// lost connection, a timeout, a server that is not ready) leaves the
// outcome unknown.
func answered(err error) (proto.Error, bool) {
	if err == nil {
		return 0, true
	}
	var code proto.Error
	if errors.As(err, &code) {
		switch code {
		case proto.ErrNoNode, proto.ErrNodeExists, proto.ErrBadVersion:
			return code, true
		}
	}
	return 0, false
}

// isCode reports whether err is a server's error code (the connection is fine).
func isCode(err error) bool {
	var code proto.Error
	return errors.As(err, &code) && !errors.Is(err, wireclient.ErrConnectionLoss) && code != proto.ErrSessionExpired
}

// Ops is how many operations were recorded (linearizable and plain).
func (r *Registers) Ops() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.history) + len(r.reads)
}

// Stats is a one-line account of the run.
func (r *Registers) Stats() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("registers: %d operations (%d in the linearizability history, %d plain reads, %d writes with unknown outcome), %d connections",
		r.stats.ops, len(r.history), len(r.reads), r.stats.unknown, r.stats.reconnects)
}

// Check checks the history: porcupine for the writes and synced reads, and
// per-client monotonicity for the plain reads. It returns the violations and
// porcupine's info for Dump.
func (r *Registers) Check(timeout time.Duration) ([]string, porcupine.LinearizationInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var bad []string
	res, info := porcupine.CheckOperationsVerbose(RegisterModel, r.history, timeout)
	switch res {
	case porcupine.Illegal:
		bad = append(bad, fmt.Sprintf("registers: history of %d operations is not linearizable", len(r.history)))
	case porcupine.Unknown:
		bad = append(bad, fmt.Sprintf("registers: porcupine gave up after %v on %d operations", timeout, len(r.history)))
	}
	bad = append(bad, checkMonotonic(r.reads, r.writes, r.unknown)...)
	return bad, info
}

// checkMonotonic checks that no plain read shows a register older than
// what its client had seen: a read by a client that had seen zxid Z must
// reflect the last acknowledged write to its key at or below Z.
func checkMonotonic(reads []plainRead, writes []ackedWrite, unknownDeletes map[int]int) []string {
	byKey := map[int][]ackedWrite{}
	for _, w := range writes {
		byKey[w.Key] = append(byKey[w.Key], w)
	}
	for _, ws := range byKey {
		sort.Slice(ws, func(i, j int) bool { return ws[i].Zxid < ws[j].Zxid })
	}
	var bad []string
	for _, rd := range reads {
		ws := byKey[rd.Key]
		i := sort.Search(len(ws), func(i int) bool { return ws[i].Zxid > rd.Seen }) - 1
		if i < 0 {
			continue
		}
		last := ws[i]
		switch {
		case rd.Err == 0 && rd.Mzxid < last.Zxid:
			bad = append(bad, fmt.Sprintf("registers: client %d read k%d at mzxid %#x after it had seen zxid %#x, which includes write %#x",
				rd.Client, rd.Key, rd.Mzxid, rd.Seen, last.Zxid))
		case rd.Err == proto.ErrNoNode && last.Kind != regDelete:
			deletedLater := unknownDeletes[rd.Key] > 0
			for _, w := range ws[i+1:] {
				deletedLater = deletedLater || w.Kind == regDelete
			}
			if !deletedLater {
				bad = append(bad, fmt.Sprintf("registers: client %d found k%d absent after it had seen zxid %#x, which includes its write %#x, and nothing deleted it",
					rd.Client, rd.Key, rd.Seen, last.Zxid))
			}
		}
	}
	return bad
}

// Dump writes the history and porcupine's visualisation into dir.
func (r *Registers) Dump(dir string, info porcupine.LinearizationInfo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := writeJSON(filepath.Join(dir, "registers-history.json"), map[string]any{
		"linearizable": r.history, "plainReads": r.reads, "ackedWrites": r.writes}); err != nil {
		return err
	}
	return porcupine.VisualizePath(RegisterModel, info, filepath.Join(dir, "registers.html"))
}
