package shell

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/herd-io/herd/server/proto"
	"github.com/herd-io/herd/server/quota"
)

// Quota commands, as zkCli 3.8 runs them (SetQuotaCommand, ListQuotaCommand,
// DelQuotaCommand): the client writes the quota nodes under /zookeeper/quota
// and the server keeps zookeeper_stats up to date. Messages, their streams
// and the records written are zkCli's, its oddities included (3.8.0 writes
// limits as "count=2,bytes=-1=;byteHardLimit=-1;countHardLimit=-1").

// quotaFlags are the one-of-four options of setquota and delquota.
const quotaFlags = "nbNB"

// quotaFlagNames are commons-cli's descriptions, for MissingOptionException.
var quotaFlagNames = map[byte]string{'n': "num soft quota", 'b': "bytes soft quota", 'N': "num hard quota", 'B': "bytes hard quota"}

// quotaKeys maps each option to the record key it sets.
var quotaKeys = map[byte]string{'n': quota.Count, 'b': quota.Bytes, 'N': quota.CountHardLimit, 'B': quota.ByteHardLimit}

// parseQuotaOptions parses "[-x val] path" where x is one of nbNB, at most
// one of them, as commons-cli's OptionGroup does. withValue says the option
// takes a value (setquota) or not (delquota).
func parseQuotaOptions(c *command, words []string, withValue, required bool) (flag byte, value, path string, err error) {
	var args []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if len(w) < 2 || w[0] != '-' {
			args = append(args, w)
			continue
		}
		f := w[1]
		if strings.IndexByte(quotaFlags, f) < 0 || (!withValue && len(w) > 2) {
			return 0, "", "", cliParse("UnrecognizedOptionException", "Unrecognized option: "+w)
		}
		if flag != 0 {
			return 0, "", "", cliParse("AlreadySelectedException", fmt.Sprintf(
				"The option '%c' was specified but an option from this group has already been selected: '%c'", f, flag))
		}
		flag = f
		if withValue {
			value = w[2:]
			if value == "" {
				if i+1 >= len(words) {
					return 0, "", "", cliParse("MissingArgumentException", "Missing argument for option: "+string(f))
				}
				i++
				value = words[i]
			}
		}
	}
	if flag == 0 && required {
		var names []string
		for _, f := range []byte(quotaFlags) {
			names = append(names, "-"+string(f)+" "+quotaFlagNames[f])
		}
		return 0, "", "", cliParse("MissingOptionException", "Missing required option: ["+strings.Join(names, ", ")+"]")
	}
	if len(args) < 1 {
		return 0, "", "", usageError(c)
	}
	return flag, value, args[0], nil
}

// cliParse is a commons-cli ParseException as zkCli prints it (its toString).
func cliParse(class, msg string) error {
	return &cliError{msg: "org.apache.commons.cli." + class + ": " + msg, err: errUsage}
}

func cmdSetQuota(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	flag, value, path, err := parseQuotaOptions(commands["setquota"], in.args, true, true)
	if err != nil {
		return nil, err
	}
	if s.currentClient() == nil {
		return nil, describe(ErrNotConnected, "")
	}
	if strings.HasPrefix(path, quota.Root) {
		return nil, &cliError{msg: "cannot set a quota under the path: " + quota.Root, err: errUsage}
	}
	var limit quota.Stats
	for _, k := range []string{quota.Count, quota.Bytes, quota.CountHardLimit, quota.ByteHardLimit} {
		limit.Set(k, -1)
	}
	n, err := quotaValue(flag, value)
	if err != nil {
		return nil, err
	}
	limit.Set(quotaKeys[flag], n)
	return createQuota(ctx, s.currentClient(), path, limit)
}

// quotaValue is checkOptionValue: counts are Java ints above zero, bytes
// longs at or above zero.
func quotaValue(flag byte, value string) (int64, error) {
	bits := 64
	if flag == 'n' || flag == 'N' {
		bits = 32
	}
	n, err := strconv.ParseInt(value, 10, bits)
	if err != nil {
		return 0, &cliError{msg: "NumberFormatException happens when parsing the option value", err: errUsage}
	}
	if bits == 32 && n <= 0 {
		return 0, &cliError{msg: "the num quota must be greater than zero", err: errUsage}
	}
	if bits == 64 && n < 0 {
		return 0, &cliError{msg: "the bytes quota must be greater than or equal to zero", err: errUsage}
	}
	return n, nil
}

// createQuota is SetQuotaCommand.createQuota.
func createQuota(ctx context.Context, c Client, path string, limit quota.Stats) (*result, error) {
	if err := validatePath(path, false); err != nil {
		return nil, err
	}
	if _, err := c.Exists(ctx, path, false); err != nil {
		if errors.Is(err, proto.ErrNoNode) {
			return nil, &cliError{msg: path + " does not exist.", err: err}
		}
		return nil, describe(err, path)
	}
	if err := checkChildQuota(ctx, c, path); err != nil {
		return nil, err
	}
	if err := checkParentQuota(ctx, c, path); err != nil {
		return nil, err
	}
	// The quota directory and one node per path component, data null.
	for _, p := range []string{"/zookeeper", quota.Root} {
		if err := createIfMissing(ctx, c, p); err != nil {
			return nil, err
		}
	}
	dir := quota.Root
	for _, part := range strings.Split(path, "/")[1:] {
		dir += "/" + part
		if err := createIfMissing(ctx, c, dir); err != nil {
			return nil, err
		}
	}
	limitPath, statPath := dir+"/"+quota.LimitNode, dir+"/"+quota.StatNode
	var stdout string
	if _, err := c.Exists(ctx, limitPath, false); errors.Is(err, proto.ErrNoNode) {
		if _, err := c.Create(ctx, limitPath, limit.Data(), proto.OpenACLUnsafe, proto.ModePersistent, 0); err != nil {
			return nil, describe(err, limitPath)
		}
		var zero quota.Stats
		zero.Set(quota.Count, 0)
		zero.Set(quota.Bytes, 0)
		if _, err := c.Create(ctx, statPath, zero.Data(), proto.OpenACLUnsafe, proto.ModePersistent, 0); err != nil {
			return nil, describe(err, statPath)
		}
		limits, stats, err := readQuota(ctx, c, limitPath, statPath)
		if err != nil {
			return nil, err
		}
		stdout = quotaWarnings(limits, stats)
	} else if err != nil {
		return nil, describe(err, limitPath)
	} else {
		limits, stats, err := readQuota(ctx, c, limitPath, statPath)
		if err != nil {
			return nil, err
		}
		for _, k := range []string{quota.Count, quota.Bytes, quota.CountHardLimit, quota.ByteHardLimit} {
			if v := limit.Get(k); v > -1 {
				limits.Set(k, v)
			}
		}
		stdout = quotaWarnings(limits, stats)
		if _, err := c.Set(ctx, limitPath, limits.Data(), -1); err != nil {
			return nil, describe(err, limitPath)
		}
	}
	return &result{stdout: stdout, value: map[string]any{"path": path, "quota": limitPath}}, nil
}

func createIfMissing(ctx context.Context, c Client, p string) error {
	if _, err := c.Exists(ctx, p, false); err == nil {
		return nil
	} else if !errors.Is(err, proto.ErrNoNode) {
		return describe(err, p)
	}
	if _, err := c.Create(ctx, p, nil, proto.OpenACLUnsafe, proto.ModePersistent, 0); err != nil && !errors.Is(err, proto.ErrNodeExists) {
		return describe(err, p)
	}
	return nil
}

// quotaWarnings is SetQuotaCommand.checkQuota: a limit below the current usage.
func quotaWarnings(limits, stats quota.Stats) string {
	var b strings.Builder
	below := func(soft, hard, used int64) bool { return (soft > -1 && soft < used) || (hard > -1 && hard < used) }
	if count := stats.Get(quota.Count); below(limits.Get(quota.Count), limits.Get(quota.CountHardLimit), count) {
		fmt.Fprintf(&b, "[Warning]: the count quota you create is less than the existing count:%d\n", count)
	}
	if bytes := stats.Get(quota.Bytes); below(limits.Get(quota.Bytes), limits.Get(quota.ByteHardLimit), bytes) {
		fmt.Fprintf(&b, "[Warning]: the bytes quota you create is less than the existing bytes:%d\n", bytes)
	}
	return b.String()
}

// checkChildQuota refuses a quota above an existing one (checkIfChildQuota).
func checkChildQuota(ctx context.Context, c Client, path string) error {
	root := quota.Path(path)
	if path == "/" {
		root = quota.Root + "/" // as zkCli builds it, so the path check fails the same way
	}
	if err := validatePath(root, false); err != nil {
		return err
	}
	nodes, err := walk(ctx, c, root, false)
	if err != nil {
		if errors.Is(err, proto.ErrNoNode) {
			return nil
		}
		return err
	}
	for _, n := range nodes {
		if n == root {
			continue
		}
		if _, err := c.Exists(ctx, n+"/"+quota.LimitNode, false); err == nil {
			return &cliError{msg: path + " has a child " + strings.TrimPrefix(n, quota.Root) + " which has a quota", err: errUsage}
		}
	}
	return nil
}

// checkParentQuota refuses a quota below an existing one (checkIfParentQuota).
func checkParentQuota(ctx context.Context, c Client, path string) error {
	parts := strings.Split(path, "/")
	dir := quota.Root
	for _, part := range parts[1 : len(parts)-1] {
		dir += "/" + part
		if _, err := c.Exists(ctx, dir+"/"+quota.LimitNode, false); err == nil {
			return &cliError{msg: path + " has a parent " + strings.TrimPrefix(dir, quota.Root) + " which has a quota", err: errUsage}
		}
	}
	return nil
}

func readQuota(ctx context.Context, c Client, limitPath, statPath string) (limits, stats quota.Stats, err error) {
	for _, r := range []struct {
		path string
		out  *quota.Stats
	}{{limitPath, &limits}, {statPath, &stats}} {
		data, _, err := c.Get(ctx, r.path, false)
		if err != nil {
			return limits, stats, err
		}
		if *r.out, err = quota.Parse(data); err != nil {
			return limits, stats, &cliError{msg: err.Error(), err: err}
		}
	}
	return limits, stats, nil
}

func cmdListQuota(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	path := in.args[0]
	abs := quota.LimitPath(path)
	head := "absolute path is " + abs + "\n"
	if msg := pathProblem(abs); msg != "" {
		return nil, &cliError{msg: head + msg, err: errBadPath}
	}
	limits, stats, err := readQuota(ctx, s.currentClient(), abs, quota.StatPath(path))
	switch {
	case errors.Is(err, proto.ErrNoNode):
		return &result{stderr: head + "quota for " + path + " does not exist.\n", value: map[string]any{"path": path}}, nil
	case err != nil:
		var ce *cliError
		if !errors.As(err, &ce) {
			ce = describe(err, abs).(*cliError)
		}
		return nil, &cliError{msg: head + ce.msg, err: ce.err}
	}
	return &result{
		stderr: head,
		stdout: "Output quota for " + path + " " + limits.String() + "\nOutput stat for " + path + " " + stats.String() + "\n",
		value:  map[string]any{"path": path, "quota": limits.String(), "stat": stats.String()},
	}, nil
}

func cmdDelQuota(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	flag, _, path, err := parseQuotaOptions(commands["delquota"], in.args, false, false)
	if err != nil {
		return nil, err
	}
	c := s.currentClient()
	if c == nil {
		return nil, describe(ErrNotConnected, "")
	}
	dir, limitPath := quota.Path(path), quota.LimitPath(path)
	if err := validatePath(limitPath, false); err != nil {
		return nil, err
	}
	if _, err := c.Exists(ctx, limitPath, false); errors.Is(err, proto.ErrNoNode) {
		return &result{stdout: "Quota does not exist for " + path + "\n", value: map[string]any{"path": path}}, nil
	} else if err != nil {
		return nil, describe(err, limitPath)
	}
	data, _, err := c.Get(ctx, limitPath, false)
	if err != nil {
		return nil, describe(err, limitPath)
	}
	limits, err := quota.Parse(data)
	if err != nil {
		return nil, &cliError{msg: err.Error(), err: err}
	}
	if flag == 0 {
		kids, _, err := c.Children(ctx, dir, false)
		if err != nil {
			return nil, describe(err, dir)
		}
		for _, k := range kids {
			if err := c.Delete(ctx, dir+"/"+k, -1); err != nil {
				return nil, describe(err, dir+"/"+k)
			}
		}
		if err := trimQuotaDirs(ctx, c, dir); err != nil {
			return nil, err
		}
		return &result{value: map[string]any{"path": path, "deleted": true}}, nil
	}
	limits.Set(quotaKeys[flag], -1)
	if _, err := c.Set(ctx, limitPath, limits.Data(), -1); err != nil {
		return nil, describe(err, limitPath)
	}
	return &result{value: map[string]any{"path": path, "quota": limits.String()}}, nil
}

// trimQuotaDirs deletes empty quota directories upwards (trimProcQuotas).
func trimQuotaDirs(ctx context.Context, c Client, dir string) error {
	for dir != quota.Root {
		kids, _, err := c.Children(ctx, dir, false)
		if err != nil {
			return describe(err, dir)
		}
		if len(kids) > 0 {
			return nil
		}
		if err := c.Delete(ctx, dir, -1); err != nil {
			return describe(err, dir)
		}
		dir = dir[:strings.LastIndexByte(dir, '/')]
	}
	return nil
}
