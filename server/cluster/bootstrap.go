package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// A fresh member decides how to start by asking the others (hello):
//
//   - if a member already holds cluster state, this node does not bootstrap:
//     it joins when that cluster's membership is exactly its server list (the
//     leader will replicate to it), waits to be added when it is the only
//     line missing there, and refuses to start otherwise;
//   - if every member that answers is fresh too, all must list the same
//     servers: then each bootstraps Raft with that list (identical
//     configurations, so it does not matter who does), else this node
//     refuses to start, naming the line that differs.
//
// Members that do not answer (not started yet) are not waited for, as with
// ZooKeeper. A node with existing state starts from it; a server list that
// differs from its membership is logged, as reconfig may have changed it.

// helloReply is a member's answer: whether it runs Raft (State), and the
// membership it holds — its server list while it is fresh, the replicated
// membership once it has one. A member that joined and has not yet heard
// from the leader runs Raft with no membership: it reports its server list,
// and Joining.
type helloReply struct {
	ID      int      `json:"id"`
	State   bool     `json:"state"`
	Joining bool     `json:"joining,omitempty"`
	Members []string `json:"members"`
}

// hello answers a peer's bootstrap question.
func (n *Node) hello() []byte {
	r := helloReply{ID: n.id}
	ms := n.cfg.Members
	if n.started.Load() {
		r.State = true
		if cur, _, err := n.Members(); err == nil && len(cur) > 0 {
			ms = cur
		} else {
			r.Joining = true
		}
	}
	for _, m := range ms {
		r.Members = append(r.Members, m.Line())
	}
	b, _ := json.Marshal(r)
	return b
}

func parseHello(b []byte) (helloReply, []Member, error) {
	var r helloReply
	if err := json.Unmarshal(b, &r); err != nil {
		return r, nil, fmt.Errorf("cluster: bad hello: %w", err)
	}
	var ms []Member
	for _, line := range r.Members {
		m, err := ParseMember(0, line)
		if err != nil {
			return r, nil, err
		}
		ms = append(ms, m)
	}
	sortMembers(ms)
	return r, ms, nil
}

// decideBootstrap asks the other members and returns whether to bootstrap.
func (n *Node) decideBootstrap(ctx context.Context) (bool, error) {
	mine := append([]Member(nil), n.cfg.Members...)
	sortMembers(mine)
	self, _ := n.cfg.self()
	type answer struct {
		m     Member
		reply helloReply
		ms    []Member
		err   error
	}
	answers := make([]answer, 0, len(mine))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range mine {
		if m.ID == n.id {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			b, err := n.callMember(cctx, m, methodHello, nil)
			a := answer{m: m, err: err}
			if err == nil {
				a.reply, a.ms, a.err = parseHello(b)
			}
			mu.Lock()
			answers = append(answers, a)
			mu.Unlock()
		}()
	}
	wg.Wait()

	joined := false
	for _, a := range answers {
		if a.err != nil {
			n.log.Debug("member did not answer hello", zap.Int("member", a.m.ID), zap.Error(a.err))
			continue
		}
		where := fmt.Sprintf("at %s (%s)", a.m.Key(), a.m.electionDialAddr())
		if !a.reply.State || a.reply.Joining {
			if d := diffMembers(mine, a.ms, where); d != "" {
				return false, fmt.Errorf("cluster: %w: this server list disagrees with %s's, so this node does not start: %s",
					ErrConfig, a.m.Key(), d)
			}
			// A joining member means a cluster exists: do not bootstrap another.
			joined = joined || a.reply.Joining
			continue
		}
		where = "in the running cluster (as " + a.m.Key() + " reports it)"
		var theirSelf *Member
		for i := range a.ms {
			if a.ms[i].ID == n.id {
				theirSelf = &a.ms[i]
			}
		}
		if theirSelf == nil {
			others := make([]Member, 0, len(mine))
			for _, m := range mine {
				if m.ID != n.id {
					others = append(others, m)
				}
			}
			if d := diffMembers(others, a.ms, where); d != "" {
				return false, fmt.Errorf("cluster: %w: this server list disagrees with the running cluster's, so this node does not join: %s",
					ErrConfig, d)
			}
			n.log.Warn("this server is not a member of the running cluster yet: waiting to be added (reconfig -add or herd cluster add)",
				zap.String("line", self.Line()))
			joined = true
			continue
		}
		if d := diffMembers(mine, a.ms, where); d != "" {
			return false, fmt.Errorf("cluster: %w: this server list disagrees with the running cluster's, so this node does not join: %s",
				ErrConfig, d)
		}
		joined = true
	}
	return !joined, nil
}
