package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes"
	"github.com/herd-io/herd/recipes/election"
)

type config struct {
	server         string
	root           string
	id             string
	tasks          int
	sessionTimeout time.Duration
	logger         *zap.Logger
}

// pool is one member of the pool: a worker and a candidate leader.
type pool struct {
	c   *framework.Client
	cfg config
	sel *election.Selector

	outMu sync.Mutex
	out   io.Writer
}

func (p *pool) path(elems ...string) string { return framework.JoinPath(p.cfg.root, elems...) }

func (p *pool) say(format string, args ...any) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	fmt.Fprintf(p.out, format+"\n", args...)
}

// run is one pool member until ctx ends.
func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.id == "" || strings.ContainsAny(cfg.id, "/>") {
		return fmt.Errorf("bad id %q: it names a znode and must not contain / or >", cfg.id)
	}
	if err := framework.ValidatePath(cfg.root); err != nil {
		return err
	}
	c, err := framework.New(cfg.server, framework.WithLogger(cfg.logger), framework.WithSessionTimeout(cfg.sessionTimeout))
	if err != nil {
		return err
	}
	defer c.Close()
	p := &pool{c: c, cfg: cfg, out: out}
	p.sel = recipes.NewLeaderSelector(c, p.path("election"), cfg.id, election.AutoRequeue(), election.WithLogger(cfg.logger))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- p.sel.Run(ctx, p.lead) }()
	go func() { errc <- p.work(ctx) }()
	err = <-errc
	cancel()
	err2 := <-errc
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = err2
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// assignment is the state of one task: its owner, and the worker it is
// being handed to (if any), as stored in assignments/<task>.
type assignment struct {
	owner, next string
	version     int32
	exists      bool
}

func parseAssignment(data []byte) (owner, next string) {
	owner, next, _ = strings.Cut(string(data), ">")
	return owner, next
}

func (a assignment) encode() []byte {
	if a.next != "" {
		return []byte(a.owner + ">" + a.next)
	}
	return []byte(a.owner)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
