package tree

import (
	"fmt"

	"github.com/herd-io/herd/server/proto"
)

// onUndo records how to revert a change made inside a multi.
func (t *Tree) onUndo(f func()) { *t.undo = append(*t.undo, f) }

// Multi applies ops atomically under one zxid: each op sees the effects of the
// earlier ones; the first failure reverts everything and produces no events.
//
// On success each op gets its normal result: for creates see multiCreate
// (type 1 with the path, or type 15 with path and Stat for containers and TTL
// nodes), type 2 for delete, 5 with the Stat for setData and 13 for check. On failure at op k every result has
// type -1: ops before k carry ErrOK (rolled back), op k its error, and later
// ops ErrRuntimeInconsistency.
func (t *Tree) Multi(tx Txn, c Caller, ops []proto.MultiOp) []proto.MultiResult {
	results := make([]proto.MultiResult, len(ops))
	var undo []func()
	t.undo = &undo
	evStart := len(t.events)
	defer func() { t.undo = nil }()
	for i := range ops {
		res, err := t.multiOp(tx, c, &ops[i])
		if err != nil {
			for j := len(undo) - 1; j >= 0; j-- {
				undo[j]()
			}
			t.events = t.events[:evStart]
			return failedResults(results, i, proto.Code(err))
		}
		results[i] = res
	}
	return results
}

// failedResults fills the results of a multi that failed at op k.
func failedResults(results []proto.MultiResult, k int, code proto.Error) []proto.MultiResult {
	for i := range results {
		r := proto.MultiResult{Op: proto.OpError, Err: proto.ErrOK}
		switch {
		case i == k:
			r.Err = code
		case i > k:
			r.Err = proto.ErrRuntimeInconsistency
		}
		results[i] = r
	}
	return results
}

// multiOp applies one write sub-op.
func (t *Tree) multiOp(tx Txn, c Caller, op *proto.MultiOp) (proto.MultiResult, error) {
	switch op.Op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		return t.multiCreate(tx, c, op)
	case proto.OpDelete:
		if op.Delete == nil {
			return proto.MultiResult{}, proto.ErrBadArguments
		}
		if err := t.delete(tx, c, op.Delete.Path, op.Delete.Version); err != nil {
			return proto.MultiResult{}, err
		}
		return proto.MultiResult{Op: proto.OpDelete}, nil
	case proto.OpSetData:
		r := op.SetData
		if r == nil {
			return proto.MultiResult{}, proto.ErrBadArguments
		}
		n, err := t.setData(tx, c, r.Path, r.Data, r.Version)
		if err != nil {
			return proto.MultiResult{}, err
		}
		st := n.stat()
		return proto.MultiResult{Op: proto.OpSetData, Stat: &st}, nil
	case proto.OpCheck:
		if op.Check == nil {
			return proto.MultiResult{}, proto.ErrBadArguments
		}
		if err := t.check(c, op.Check.Path, op.Check.Version); err != nil {
			return proto.MultiResult{}, err
		}
		return proto.MultiResult{Op: proto.OpCheck}, nil
	}
	return proto.MultiResult{}, proto.ErrBadArguments
}

// multiCreate applies a create sub-op. Inside multi ZooKeeper rebuilds each
// create from its flags alone (Op.create): 4 is a container and 5/6 a TTL node
// (reported as create2 with a Stat), anything else a plain or ephemeral node
// (reported as create, path only), whichever create opcode carried it; the
// ttl is used only for TTL flags sent as op 21.
func (t *Tree) multiCreate(tx Txn, c Caller, op *proto.MultiOp) (proto.MultiResult, error) {
	r := op.Create
	if r == nil {
		return proto.MultiResult{}, proto.ErrBadArguments
	}
	if err := multiCreateMarshal(op); err != nil {
		return proto.MultiResult{}, err
	}
	eff, ttl := proto.OpCreate, int64(-1)
	switch {
	case r.Flags == proto.ModeContainer:
		eff = proto.OpCreateContainer
	case r.Flags.TTL():
		eff, ttl = proto.OpCreateTTL, r.TTL
	}
	k, ttl, err := t.createKind(eff, r.Flags, ttl)
	if err != nil {
		return proto.MultiResult{}, err
	}
	path, n, err := t.create(tx, c, r.Path, r.Data, r.ACL, r.Flags, k, ttl)
	if err != nil {
		return proto.MultiResult{}, err
	}
	if eff == proto.OpCreate {
		return proto.MultiResult{Op: proto.OpCreate, Path: path}, nil
	}
	st := n.stat()
	return proto.MultiResult{Op: proto.OpCreate2, Path: path, Stat: &st}, nil
}

// multiCreateMarshal rejects a TTL flag on a create sub-op other than 21:
// ZooKeeper fails to deserialize such a multi at all.
func multiCreateMarshal(op *proto.MultiOp) error {
	if op.Create != nil && op.Create.Flags.TTL() && op.Op != proto.OpCreateTTL {
		return proto.ErrMarshallingError
	}
	return nil
}

// ValidateMulti reports whether ZooKeeper would refuse to parse a multi
// request: a create sub-op other than createTTL (21) carrying a TTL flag
// (5 or 6) makes the whole request fail with MarshallingError (reply header
// err -5, no results) before any op runs. Callers should answer that way
// instead of calling Multi; Multi itself treats such an op as failing with
// ErrMarshallingError.
func ValidateMulti(ops []proto.MultiOp) error {
	for i := range ops {
		if err := multiCreateMarshal(&ops[i]); err != nil {
			return fmt.Errorf("multi op %d: TTL flag on %v: %w", i, ops[i].Op, err)
		}
	}
	return nil
}

// check is multi's version check: path (-8), node (-101), READ (-102),
// version (-103).
func (t *Tree) check(c Caller, path string, version int32) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	n := t.nodes.get(path)
	if n == nil {
		return proto.ErrNoNode
	}
	if err := checkACL(c, n.acls(), proto.PermRead); err != nil {
		return err
	}
	return checkVersion(n.version, version)
}

// MultiRead runs getData (4) and getChildren (8) sub-ops independently; a
// failing op gets a type -1 result with its code and the others still run.
func (t *Tree) MultiRead(c Caller, ops []proto.MultiOp) []proto.MultiResult {
	results := make([]proto.MultiResult, len(ops))
	for i, op := range ops {
		var err error
		switch {
		case op.Read == nil:
			err = proto.ErrBadArguments
		case op.Op == proto.OpGetData:
			var data []byte
			var st proto.Stat
			if data, st, err = t.GetData(c, op.Read.Path); err == nil {
				results[i] = proto.MultiResult{Op: proto.OpGetData, Data: data, Stat: &st}
			}
		case op.Op == proto.OpGetChildren:
			var kids []string
			if kids, _, err = t.GetChildren(c, op.Read.Path); err == nil {
				results[i] = proto.MultiResult{Op: proto.OpGetChildren, Children: kids}
			}
		default:
			err = proto.ErrBadArguments
		}
		if err != nil {
			results[i] = proto.MultiResult{Op: proto.OpError, Err: proto.Code(err)}
		}
	}
	return results
}
