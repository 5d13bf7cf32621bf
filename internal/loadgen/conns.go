package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"
)

// minConnectWait is the least a run waits for its sessions, however short
// its Duration: a handshake on a loaded machine can take a few hundred ms.
const minConnectWait = time.Second

// zkLogger sends go-zookeeper's log lines to zap at debug level: reconnects
// during a benchmark are expected and counted as errors, not printed.
type zkLogger struct{ l *zap.SugaredLogger }

func (z zkLogger) Printf(format string, args ...any) { z.l.Debugf(format, args...) }

// dial opens n sessions and waits until each has one, for at most the
// session timeout or the run's Duration (but minConnectWait), whichever is
// shorter. When every
// server address has refused a connection it fails at once with the
// network's errors: go-zookeeper would retry them forever. On failure it
// closes whatever it opened.
func dial(parent context.Context, cfg Config, n int, log *zap.Logger) ([]*zk.Conn, error) {
	budget := cfg.SessionTimeout
	if cfg.Duration > 0 {
		budget = min(budget, max(cfg.Duration, minConnectWait))
	}
	ctx, cancel := context.WithTimeout(parent, budget)
	defer cancel()
	dw := newDialWatch(cfg.Servers)
	conns := make([]*zk.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, events, err := zk.Connect(cfg.Servers, cfg.SessionTimeout,
			zk.WithLogger(zkLogger{log.Sugar()}), zk.WithLogInfo(false), zk.WithDialer(dw.dial))
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("loadgen: connect: %w", err)
		}
		conns = append(conns, c)
		if err := waitSession(ctx, events, dw.allFailed); err != nil {
			closeAll(conns)
			return nil, dw.explain(parent, err, cfg.Servers, budget)
		}
	}
	return conns, nil
}

// explain turns a failed wait for a session into the error to report: the
// network's own errors where there are some, never a bare deadline.
func (d *dialWatch) explain(parent context.Context, err error, servers []string, budget time.Duration) error {
	dialErrs := d.failures()
	switch {
	case errors.Is(err, errAllRefused):
		return fmt.Errorf("loadgen: cannot connect to %v: %w", servers, dialErrs)
	case parent.Err() != nil:
		return fmt.Errorf("loadgen: connect: %w", parent.Err())
	case errors.Is(err, context.DeadlineExceeded) && dialErrs != nil:
		return fmt.Errorf("loadgen: no session with %v within %v: %w", servers, budget, dialErrs)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("loadgen: no session with %v within %v: the server accepted the connection but did not complete the handshake", servers, budget)
	}
	return fmt.Errorf("loadgen: session with %v: %w", servers, err)
}

// errAllRefused ends waitSession when every address has failed to dial.
var errAllRefused = errors.New("every server address refused the connection")

func waitSession(ctx context.Context, events <-chan zk.Event, allFailed <-chan struct{}) error {
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("connection closed")
			}
			if ev.State == zk.StateHasSession {
				return nil
			}
			if ev.State == zk.StateAuthFailed || ev.State == zk.StateExpired {
				return fmt.Errorf("state %v", ev.State)
			}
		case <-allFailed:
			return errAllRefused
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// dialWatch is go-zookeeper's dialer with a memory: it records the last
// error of each address and closes allFailed once every address the client
// will try has failed since the last successful dial.
type dialWatch struct {
	want int // distinct addresses, resolved as go-zookeeper's DNSHostProvider does

	mu        sync.Mutex
	failed    map[string]error
	allFailed chan struct{}
	signalled bool
}

func newDialWatch(servers []string) *dialWatch {
	addrs := map[string]bool{}
	for _, s := range servers {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			continue
		}
		ips, err := net.LookupHost(host)
		if err != nil {
			continue // zk.Connect reports it
		}
		for _, ip := range ips {
			addrs[net.JoinHostPort(ip, port)] = true
		}
	}
	return &dialWatch{want: max(1, len(addrs)), failed: map[string]error{}, allFailed: make(chan struct{})}
}

func (d *dialWatch) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout(network, addr, timeout)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		delete(d.failed, addr)
		return c, nil
	}
	d.failed[addr] = err
	if len(d.failed) >= d.want && !d.signalled {
		d.signalled = true
		close(d.allFailed)
	}
	return nil, err
}

// dialErrors is the last dial error of each address, on one line.
type dialErrors []error

func (e dialErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is and errors.As look at each address's error.
func (e dialErrors) Unwrap() []error { return e }

// failures returns the recorded dial errors in address order, nil if none.
func (d *dialWatch) failures() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	addrs := make([]string, 0, len(d.failed))
	for a := range d.failed {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	if len(addrs) == 0 {
		return nil
	}
	errs := make(dialErrors, len(addrs))
	for i, a := range addrs {
		errs[i] = d.failed[a]
	}
	return errs
}

func closeAll(conns []*zk.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
