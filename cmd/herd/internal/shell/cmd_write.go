package shell

import (
	"context"
	"errors"
	"strconv"

	"github.com/herd-io/herd/server/proto"
)

// maxTTL is EphemeralType.TTL's limit: the ttl must fit in 40 bits.
const maxTTL = 1<<40 - 1

func cmdCreate(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	e, seq, cont, hasT := in.has('e'), in.has('s'), in.has('c'), in.has('t')
	bad := func(msg string) (*result, error) { return nil, &cliError{msg: msg, err: errUsage} }
	if cont && (e || seq) {
		return bad("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	}
	var ttl int64
	if hasT {
		var err error
		if ttl, err = strconv.ParseInt(in.flags['t'], 10, 64); err != nil {
			return bad("-t argument must be a long value")
		}
		if e {
			return bad("TTLs cannot be used with Ephemeral znodes")
		}
		if cont {
			return bad("TTLs cannot be used with Container znodes")
		}
		if ttl <= 0 || ttl > maxTTL {
			return bad("ttl must be positive and cannot be larger than: " + strconv.FormatInt(maxTTL, 10))
		}
	}
	mode := proto.ModePersistent
	switch {
	case e && seq:
		mode = proto.ModeEphemeralSequential
	case e:
		mode = proto.ModeEphemeral
	case seq && hasT:
		mode = proto.ModePersistentSequentialWithTTL
	case seq:
		mode = proto.ModePersistentSequential
	case cont:
		mode = proto.ModeContainer
	case hasT:
		mode = proto.ModePersistentWithTTL
	}
	path := in.args[0]
	var data []byte // zkCli sends null data when none is given
	if len(in.args) > 1 {
		data = []byte(in.args[1])
	}
	acl := proto.OpenACLUnsafe
	if len(in.args) > 2 {
		var err error
		if acl, err = parseACL(in.args[2]); err != nil {
			return nil, &cliError{msg: err.Error(), err: err}
		}
	}
	created, err := s.currentClient().Create(ctx, path, data, acl, mode, ttl)
	if err != nil {
		return nil, describe(err, path)
	}
	return &result{stderr: "Created " + created + "\n", value: map[string]any{"path": created}}, nil
}

func cmdSet(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	version, err := versionFlag(in)
	if err != nil {
		return nil, err
	}
	path := in.args[0]
	st, err := s.currentClient().Set(ctx, path, []byte(in.args[1]), version)
	if err != nil {
		return nil, describe(err, path)
	}
	return statResult(in, st, map[string]any{"path": path}), nil
}

func cmdDelete(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	version, err := versionFlag(in)
	if err != nil {
		return nil, err
	}
	path := in.args[0]
	if err := s.currentClient().Delete(ctx, path, version); err != nil {
		return nil, describe(err, path)
	}
	return &result{value: map[string]any{"deleted": []string{path}}}, nil
}

// cmdDeleteAll deletes a subtree, deepest nodes first. Nodes that vanish
// meanwhile are not an error, as in ZKUtil.deleteRecursive.
func cmdDeleteAll(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	c, root := s.currentClient(), in.args[0]
	if root == "/" {
		return nil, &cliError{msg: "Path must not be /", err: errUsage}
	}
	paths, err := walk(ctx, c, root, false)
	if err != nil {
		return nil, err
	}
	deleted := []string{}
	for i := len(paths) - 1; i >= 0; i-- {
		switch err := c.Delete(ctx, paths[i], -1); {
		case err == nil:
			deleted = append(deleted, paths[i])
		case !errors.Is(err, proto.ErrNoNode):
			return nil, describe(err, paths[i])
		}
	}
	return &result{value: map[string]any{"deleted": deleted}}, nil
}

func cmdSync(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	path := in.args[0]
	if err := s.currentClient().Sync(ctx, path); err != nil {
		return nil, &cliError{msg: "Sync has failed. rc=" + strconv.Itoa(int(proto.Code(err))), err: err}
	}
	return &result{stdout: "Sync is OK\n", value: map[string]any{"synced": path}}, nil
}

func cmdSetACL(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	version, err := versionFlag(in)
	if err != nil {
		return nil, err
	}
	c, path := s.currentClient(), in.args[0]
	acl, err := parseACL(in.args[1])
	if err != nil {
		return nil, &cliError{msg: err.Error(), err: err}
	}
	paths := []string{path}
	if in.has('R') {
		if paths, err = walk(ctx, c, path, false); err != nil {
			return nil, err
		}
	}
	var st proto.Stat
	for _, p := range paths {
		if st, err = c.SetACL(ctx, p, acl, version); err != nil {
			return nil, describe(err, p)
		}
	}
	// The stat is the last node's, as zkCli prints it.
	return statResult(in, st, map[string]any{"paths": paths}), nil
}

func cmdAddAuth(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	var auth []byte
	if len(in.args) > 1 {
		auth = []byte(in.args[1])
	}
	if err := s.currentClient().AddAuth(ctx, in.args[0], auth); err != nil {
		return nil, describe(err, "")
	}
	return &result{value: map[string]any{"scheme": in.args[0]}}, nil
}
