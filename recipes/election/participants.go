package election

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/internal/contend"
)

// Participant is one contender in an election, as Curator lists them.
type Participant struct {
	// ID is the participant's id (its node's data, UTF-8).
	ID string
	// Leader is set for the first participant in election order. It is
	// inferred from the order, as Curator does, not from the leader's own
	// view (which may already have given leadership up on SUSPENDED).
	Leader bool
}

func checkArgs(c *framework.Client, path string) error {
	if c == nil {
		return fmt.Errorf("election %s: %w: nil client", path, ErrInvalidArgument)
	}
	if err := framework.ValidatePath(path); err != nil {
		return fmt.Errorf("election: %w", err)
	}
	return nil
}

// participants reads every contender node's id in election order; nodes that
// vanish while it reads are skipped, and the first one read is the leader.
func participants(ctx context.Context, k *contend.Contender) ([]Participant, error) {
	kids, err := k.Sorted(ctx)
	if err != nil {
		return nil, fmt.Errorf("election %s: %w", k.Dir, err)
	}
	var out []Participant
	for _, name := range kids {
		data, _, err := k.Client.Get(ctx, framework.JoinPath(k.Dir, name))
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("election %s: %w", k.Dir, err)
		}
		out = append(out, Participant{ID: string(data), Leader: len(out) == 0})
	}
	return out, nil
}

// leader is the id of the first readable contender.
func leader(ctx context.Context, k *contend.Contender) (string, error) {
	ps, err := participants(ctx, k)
	if err != nil {
		return "", err
	}
	if len(ps) == 0 {
		return "", fmt.Errorf("election %s: %w", k.Dir, ErrNoLeader)
	}
	return ps[0].ID, nil
}
