package shell

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/herd-io/herd/server/proto"
)

func cmdLs(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	c, path := s.currentClient(), in.args[0]
	if in.has('R') {
		paths, err := walk(ctx, c, path, in.has('w'))
		if err != nil {
			return nil, err
		}
		return &result{stdout: strings.Join(paths, "\n") + "\n", value: map[string]any{"paths": paths}}, nil
	}
	children, st, err := c.Children(ctx, path, in.has('w'))
	if err != nil {
		return nil, describe(err, path)
	}
	sort.Strings(children)
	var b strings.Builder
	b.WriteString("[" + strings.Join(children, ", ") + "]\n")
	v := map[string]any{"children": nonNil(children)}
	if in.has('s') {
		addStat(&b, v, st)
	}
	return &result{stdout: b.String(), value: v}, nil
}

// walk lists path and its descendants breadth first, children sorted, as
// zkCli's ls -R prints them.
func walk(ctx context.Context, c Client, root string, watch bool) ([]string, error) {
	out := []string{root}
	for i := 0; i < len(out); i++ {
		children, _, err := c.Children(ctx, out[i], watch)
		if err != nil {
			return nil, describe(err, out[i])
		}
		sort.Strings(children)
		for _, ch := range children {
			out = append(out, join(out[i], ch))
		}
	}
	return out, nil
}

func join(parent, child string) string {
	if parent == "/" {
		return "/" + child
	}
	return parent + "/" + child
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// dataString renders node data as zkCli's plain formatter does ("null" for no data).
func dataString(d []byte) string {
	if d == nil {
		return "null"
	}
	return string(d)
}

// dataJSON puts data into a JSON object under keys that do not depend on
// the bytes: "data" is always base64 (null for a node without data, as zkCli
// prints "null"), and "text" is added when the data is valid UTF-8.
func dataJSON(v map[string]any, d []byte) {
	if d == nil {
		v["data"] = nil
		return
	}
	v["data"] = base64.StdEncoding.EncodeToString(d)
	if utf8.Valid(d) {
		v["text"] = string(d)
	}
}

func cmdGet(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	path := in.args[0]
	data, st, err := s.currentClient().Get(ctx, path, in.has('w'))
	if err != nil {
		return nil, describe(err, path)
	}
	var b strings.Builder
	b.WriteString(dataString(data) + "\n")
	v := map[string]any{}
	dataJSON(v, data)
	if in.has('s') {
		addStat(&b, v, st)
	}
	return &result{stdout: b.String(), value: v}, nil
}

func cmdStat(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	path := in.args[0]
	st, err := s.currentClient().Exists(ctx, path, in.has('w'))
	if err != nil {
		return nil, describe(err, path)
	}
	var b strings.Builder
	writeStat(&b, st)
	return &result{stdout: b.String(), value: map[string]any{"stat": toStatJSON(st)}}, nil
}

func cmdGetACL(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	path := in.args[0]
	acl, st, err := s.currentClient().GetACL(ctx, path)
	if err != nil {
		return nil, describe(err, path)
	}
	var b strings.Builder
	list := make([]map[string]string, 0, len(acl))
	for _, a := range acl {
		fmt.Fprintf(&b, "'%s,'%s\n: %s\n", a.ID.Scheme, a.ID.ID, permString(a.Perms))
		list = append(list, map[string]string{"scheme": a.ID.Scheme, "id": a.ID.ID, "perms": permString(a.Perms)})
	}
	v := map[string]any{"acl": list}
	if in.has('s') {
		addStat(&b, v, st)
	}
	return &result{stdout: b.String(), value: v}, nil
}

func cmdWhoAmI(ctx context.Context, s *Shell, _ *invocation) (*result, error) {
	infos, err := s.currentClient().WhoAmI(ctx)
	if err != nil {
		return nil, describe(err, "")
	}
	var b strings.Builder
	b.WriteString("Auth scheme: User\n")
	for _, i := range infos {
		fmt.Fprintf(&b, "%s: %s\n", i.AuthScheme, i.User)
	}
	if infos == nil {
		infos = []ClientInfo{}
	}
	return &result{stdout: b.String(), value: map[string]any{"clientInfo": infos}}, nil
}

func cmdGetEphemerals(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	prefix := "/"
	if len(in.args) > 0 {
		prefix = in.args[0]
	}
	paths, err := s.currentClient().GetEphemerals(ctx, prefix)
	if err != nil {
		return nil, describe(err, prefix)
	}
	return &result{stdout: "[" + strings.Join(paths, ", ") + "]\n", value: map[string]any{"ephemerals": nonNil(paths)}}, nil
}

func cmdGetAllChildrenNumber(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	path := in.args[0]
	n, err := s.currentClient().GetAllChildrenNumber(ctx, path)
	if err != nil {
		return nil, describe(err, path)
	}
	return &result{stdout: fmt.Sprintf("%d\n", n), value: map[string]any{"totalNumber": n}}, nil
}

// configNode is where servers publish the ensemble's dynamic configuration.
const configNode = "/zookeeper/config"

func cmdConfig(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	data, st, err := s.currentClient().Get(ctx, configNode, in.has('w'))
	if err != nil {
		return nil, describe(err, configNode)
	}
	text := string(data)
	if in.has('c') {
		text = clientConfig(data)
	}
	var b strings.Builder
	b.WriteString(text + "\n")
	v := map[string]any{"config": text}
	if in.has('s') {
		addStat(&b, v, st)
	}
	return &result{stdout: b.String(), value: v}, nil
}

// clientConfig is config -c: the config version and the client addresses,
// taken from "server.N=...;clientaddr" lines.
func clientConfig(data []byte) string {
	var version string
	var addrs []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		l := string(bytes.TrimSpace(line))
		switch {
		case strings.HasPrefix(l, "version="):
			version = strings.TrimPrefix(l, "version=")
		case strings.HasPrefix(l, "server."):
			if i := strings.LastIndex(l, ";"); i >= 0 {
				addrs = append(addrs, l[i+1:])
			}
		}
	}
	return strings.TrimSpace(version + " " + strings.Join(addrs, ","))
}

// addStat adds st to both forms of a result, for a command run with -s.
func addStat(b *strings.Builder, v map[string]any, st proto.Stat) {
	writeStat(b, st)
	v["stat"] = toStatJSON(st)
}

// statResult is the result of a write that prints nothing but its stat, and
// that only with -s; its JSON always has the stat, and v's other fields.
func statResult(in *invocation, st proto.Stat, v map[string]any) *result {
	v["stat"] = toStatJSON(st)
	if !in.has('s') {
		return &result{value: v}
	}
	var b strings.Builder
	writeStat(&b, st)
	return &result{stdout: b.String(), value: v}
}
