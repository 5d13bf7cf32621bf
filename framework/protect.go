package framework

import (
	"context"
	"strings"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"
	"go.uber.org/zap"
)

// protectedPrefixStart begins every protected node name, which is "_c_" + a
// 36-character UUID + "-" (Curator's format, so Curator recognises our nodes).
const protectedPrefixStart = "_c_"

// protectedNameLen is len("_c_") + 36 + len("-").
const protectedNameLen = 40

// ProtectedName returns the protected form of node name for id: "_c_<id>-name".
func ProtectedName(id uuid.UUID, name string) string {
	return protectedPrefixStart + id.String() + "-" + name
}

// IsProtectedName reports whether name has Curator's protected prefix.
func IsProtectedName(name string) bool {
	if len(name) <= protectedNameLen || !strings.HasPrefix(name, protectedPrefixStart) || name[protectedNameLen-1] != '-' {
		return false
	}
	_, err := uuid.Parse(name[len(protectedPrefixStart) : protectedNameLen-1])
	return err == nil
}

// StripProtectedPrefix returns name without a protected prefix, if it has one.
func StripProtectedPrefix(name string) string {
	if IsProtectedName(name) {
		return name[protectedNameLen:]
	}
	return name
}

// createProtected is Curator's protection mode: the name carries one UUID for
// the whole operation; every retry first lists the parent for a child with
// that prefix and adopts it, unless (for ephemeral modes) it belongs to an
// earlier session, in which case it is deleted in the background and a new
// node is created (CURATOR-498). If the create finally fails while its outcome
// is unknown, a background find-and-delete removes any node it left.
func (c *Client) createProtected(ctx context.Context, sp string, data []byte, cfg createConfig) (string, error) {
	parent, name := SplitPath(sp)
	prefix := ProtectedName(uuid.New(), "")
	target := JoinPath(parent, prefix+name)
	var created string
	var sid int64
	err := c.retry(ctx, "protectedCreate", func(ctx context.Context, conn *zk.Conn, attempt int) error {
		if attempt > 0 {
			found, err := c.findProtected(ctx, conn, parent, prefix)
			if err != nil && !isNoNode(err) {
				return err
			}
			if found != "" {
				if !cfg.mode.Ephemeral() || sid == conn.SessionID() {
					created = found
					return nil
				}
				c.core.log.Info("protected node of an old session; deleting it", zap.String("path", found))
				c.core.deleteInBackground(found)
			}
		}
		sid = conn.SessionID()
		p, err := c.createOnce(ctx, conn, target, data, cfg)
		if err == nil {
			created = p
		}
		return err
	})
	if err != nil && (IsRetryable(err) || ctx.Err() != nil) {
		c.core.findAndDelete(ctx, parent, prefix)
	}
	return created, err
}

// findProtected returns the server path of parent's child starting with prefix.
// It syncs first: after a lost reply the client may be on another server that
// has not applied the create yet, and a miss there would create it twice.
func (c *Client) findProtected(ctx context.Context, conn *zk.Conn, parent, prefix string) (string, error) {
	kids, err := call(ctx, c.core, func() ([]string, error) {
		if _, err := conn.Sync(parent); err != nil {
			return nil, err
		}
		kids, _, err := conn.Children(parent)
		return kids, err
	})
	if err != nil {
		return "", err
	}
	for _, k := range kids {
		if strings.HasPrefix(k, prefix) {
			return JoinPath(parent, k), nil
		}
	}
	return "", nil
}
