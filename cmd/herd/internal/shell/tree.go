package shell

import (
	"context"
	"sort"
	"strings"
)

// treeNode is one znode in tree's JSON output.
type treeNode struct {
	Name     string      `json:"name"`
	Children []*treeNode `json:"children,omitempty"`
}

// cmdTree draws the subtree under a path with box-drawing branches.
func cmdTree(ctx context.Context, s *Shell, in *invocation) (*result, error) {
	root := in.args[0]
	node, err := loadTree(ctx, s.currentClient(), root, root)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(root + "\n")
	drawTree(&b, node.Children, "")
	return &result{stdout: b.String(), value: node}, nil
}

func loadTree(ctx context.Context, c Client, path, name string) (*treeNode, error) {
	children, _, err := c.Children(ctx, path, false)
	if err != nil {
		return nil, describe(err, path)
	}
	sort.Strings(children)
	n := &treeNode{Name: name}
	for _, ch := range children {
		sub, err := loadTree(ctx, c, join(path, ch), ch)
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, sub)
	}
	return n, nil
}

func drawTree(b *strings.Builder, nodes []*treeNode, indent string) {
	for i, n := range nodes {
		branch, next := "├── ", "│   "
		if i == len(nodes)-1 {
			branch, next = "└── ", "    "
		}
		b.WriteString(indent + branch + n.Name + "\n")
		drawTree(b, n.Children, indent+next)
	}
}
