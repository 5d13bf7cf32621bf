// Package group is Apache Curator's GroupMember: membership in a group of
// processes, each present as an ephemeral node that lives with its session,
// with a cache of every member and its payload.
//
// # Layout
//
//	<membershipPath>            container parent, created on first join
//	<membershipPath>/<id>       EPHEMERAL, data = the member's payload
//
// The same layout as Curator's, so Java and Go members share one group.
//
// # Connection states
//
//   - SUSPENDED: this member stays in the group while the session lives; the
//     view of the others may go stale.
//   - RECONNECTED: the view is read again; the member's node is re-created if
//     it is missing.
//   - LOST: the member's node died with the session, so the others see it
//     leave; it joins again on the new session as soon as the client
//     reconnects (recipes/node), and the view is rebuilt.
package group

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/cache"
	"github.com/herd-io/herd/recipes/node"
)

// ErrInvalidID reports a member id that cannot be a znode name.
var ErrInvalidID = errors.New("group: invalid member id")

// Member is this process's membership in a group. Its methods are safe for
// concurrent use.
type Member struct {
	path string
	id   string
	pen  *node.Node
	view *cache.Tree
}

// NewMember returns the membership of id (a znode name) in the group at
// membershipPath with payload. Nothing is created before Start. A bad path
// is an error wrapping framework.ErrInvalidPath, a bad id one wrapping
// ErrInvalidID.
func NewMember(c *framework.Client, membershipPath, id string, payload []byte) (*Member, error) {
	if c == nil {
		return nil, errors.New("group: nil client")
	}
	if id == "" || id == "." || id == ".." || strings.Contains(id, "/") {
		return nil, fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	if membershipPath == "/" {
		return nil, fmt.Errorf("%w: a group cannot be /", framework.ErrInvalidPath)
	}
	pen, err := node.New(c, framework.ModeEphemeral, framework.JoinPath(membershipPath, id), payload)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(membershipPath, "/") {
		return nil, fmt.Errorf("%w: %q is not absolute", framework.ErrInvalidPath, membershipPath)
	}
	view, err := cache.NewTree(c, membershipPath, cache.WithMaxDepth(1))
	if err != nil {
		return nil, err
	}
	return &Member{path: membershipPath, id: id, pen: pen, view: view}, nil
}

// Start joins the group and starts watching it, in the background.
func (m *Member) Start() error {
	if err := m.view.Start(); err != nil {
		return err
	}
	return m.pen.Start()
}

// AwaitJoined waits until this member's node was created and the first view
// of the group is loaded.
func (m *Member) AwaitJoined(ctx context.Context) error {
	if err := m.pen.WaitForInitialCreate(ctx); err != nil {
		return err
	}
	return m.view.AwaitInitialized(ctx)
}

// ID returns this member's id.
func (m *Member) ID() string { return m.id }

// Members returns every member's id and payload from the local view (never
// blocking on the network). This member is always included, with its own
// payload, even before its node is seen.
func (m *Member) Members() map[string][]byte {
	out := map[string][]byte{}
	kids, _ := m.view.Children(m.path)
	for _, k := range kids {
		if n, ok := m.view.Get(framework.JoinPath(m.path, k)); ok {
			out[k] = n.Data
		}
	}
	if _, ok := out[m.id]; !ok {
		out[m.id] = m.pen.Data()
	}
	return out
}

// SetPayload changes this member's payload.
func (m *Member) SetPayload(ctx context.Context, payload []byte) error {
	return m.pen.SetData(ctx, payload)
}

// Listen registers fn for changes of the group view (see cache.Tree.Listen):
// NodeCreated, NodeChanged and NodeDeleted of <membershipPath>/<id> nodes are
// members joining, changing payload and leaving.
func (m *Member) Listen(fn func(cache.Event)) (remove func()) { return m.view.Listen(fn) }

// Close leaves the group (deleting this member's node) and stops the view.
func (m *Member) Close(ctx context.Context) error {
	err := m.pen.Close(ctx)
	if cerr := m.view.Close(); err == nil {
		err = cerr
	}
	return err
}
