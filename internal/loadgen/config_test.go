package loadgen

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfigChecks(t *testing.T) {
	ok := Config{Servers: []string{"127.0.0.1:1"}, Workload: WorkloadCreate, Ops: 1}
	for name, mut := range map[string]func(*Config){
		"no servers":   func(c *Config) { c.Servers = nil },
		"bad workload": func(c *Config) { c.Workload = "delete" },
		"no end":       func(c *Config) { c.Ops = 0 },
		"negative":     func(c *Config) { c.Conns = -1 },
		"prefix":       func(c *Config) { c.KeyPrefix = "rel/path" },
		"slash end":    func(c *Config) { c.KeyPrefix = "/a/" },
		"children":     func(c *Config) { c.Children = -1 },
		"watchers":     func(c *Config) { c.Watchers = -1 },
	} {
		c := ok
		mut(&c)
		if _, err := Run(context.Background(), c, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Run = %v, want ErrConfig", name, err)
		}
	}
	c, err := ok.withDefaults()
	if err != nil || c.Conns != 1 || c.Goroutines != 1 || c.KeyPrefix != DefaultKeyPrefix || c.SessionTimeout != DefaultSessionTimeout ||
		c.Children != DefaultChildren || c.Watchers != DefaultWatchers {
		t.Errorf("defaults: %+v %v", c, err)
	}
	if w, err := ParseWorkload("SETDATA"); err != nil || w != WorkloadSetData {
		t.Errorf("ParseWorkload = %v, %v", w, err)
	}
}

// TestUnreachableServerFails: a refused connection ends the run with the
// network's error as soon as every address has refused once, well within a
// session timeout that would otherwise be waited out.
func TestUnreachableServerFails(t *testing.T) {
	start := time.Now()
	_, err := Run(context.Background(), Config{Servers: []string{"127.0.0.1:1"}, Workload: WorkloadGetData,
		Ops: 1, SessionTimeout: time.Minute}, nil)
	if !errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want the connection refused error", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestFormat(t *testing.T) {
	out := Format(Result{Workload: WorkloadMixed, Conns: 4, Goroutines: 16, Ops: 43987, Errors: 1,
		Elapsed: 1000400 * time.Microsecond, OpsPerSec: 43969.4, Min: 120 * time.Microsecond,
		Mean: 1234567 * time.Nanosecond, P50: 987654 * time.Nanosecond, P90: 2 * time.Millisecond,
		P99: 4512345 * time.Nanosecond, Max: 123456789 * time.Nanosecond})
	want := "workload    mixed (4 conns x 16 goroutines)\n" +
		"ops         43987 ok, 1 errors in 1s\n" +
		"throughput  43969 ops/s\n" +
		"latency     min 120µs  mean 1.23ms  p50 988µs  p90 2ms  p99 4.51ms  max 123ms\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if strings.Count(out, "\n") != 4 {
		t.Error("line count")
	}
}
