package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/group"
)

// NewGroupMember returns Curator's GroupMember: id's membership, with
// payload, in the group at membershipPath (see package group).
func NewGroupMember(c *framework.Client, membershipPath, id string, payload []byte) (*group.Member, error) {
	return group.NewMember(c, membershipPath, id, payload)
}
